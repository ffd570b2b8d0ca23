/** The credential routes are rate limited per client address; the rest of the API is not. */
import type { ShopCluster } from "../helpers/cluster";
import type { Client } from "../helpers/http";

let shop: ShopCluster;
let api: Client;

beforeAll(async () => {
	// The limit is read when the gateway module loads, so it is set before loading it.
	process.env.AUTH_RATE_LIMIT = "5";
	const { startShop } = await import("../helpers/cluster");
	const { client } = await import("../helpers/http");
	shop = await startShop();
	api = client(shop.url);
});
afterAll(() => shop.stop());

it("answers 429 once a client passes the limit on /api/auth, and keeps serving other routes", async () => {
	const statuses: number[] = [];
	for (let i = 0; i < 7; i++) {
		statuses.push((await api.post("/api/auth/login", { email: "who@example.com", password: "guess-number-" + i })).status);
	}
	expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);

	const limited = await api.post("/api/auth/register", { email: "late@example.com", password: "s3cret-enough", name: "Late" });
	expect(limited.status).toBe(429);
	expect(limited.body).toMatchObject({ code: 429 });

	expect((await api.get("/api/discovery/health")).status).toBe(200);
});
