/** Starts (or finds) the servers once for the whole cluster tier and hands their URLs to the tests. */
import { startServers, type Servers } from "./servers";

declare global {
	var shopTestServers: Servers | undefined;
}

export default async function globalSetup(): Promise<void> {
	const servers = await startServers();
	globalThis.shopTestServers = servers;
	process.env.SHOP_TEST_MONGO_URI = servers.mongoUri;
	process.env.SHOP_TEST_NATS_URL = servers.natsUrl;
	process.env.SHOP_TEST_REDIS_URL = servers.redisUrl;
}
