/** The servers global-setup started, as the cluster tests read them. */
import type { ServerUrls } from "./servers";

export function testServers(): ServerUrls {
	const { SHOP_TEST_MONGO_URI, SHOP_TEST_NATS_URL, SHOP_TEST_REDIS_URL } = process.env;
	if (!SHOP_TEST_MONGO_URI || !SHOP_TEST_NATS_URL || !SHOP_TEST_REDIS_URL) {
		throw new Error("The cluster servers are not set up: run these tests with npm run test:cluster");
	}
	return { mongoUri: SHOP_TEST_MONGO_URI, natsUrl: SHOP_TEST_NATS_URL, redisUrl: SHOP_TEST_REDIS_URL };
}
