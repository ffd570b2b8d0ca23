/**
 * The credential routes are rate limited per client address, password changes per account;
 * the rest of the API is not.
 */
import type { ShopCluster } from "../helpers/cluster";
import type { Client } from "../helpers/http";

let shop: ShopCluster;
let api: Client;

beforeAll(async () => {
	// The limit is read when the gateway module loads, so it is set before loading it.
	process.env.AUTH_RATE_LIMIT = "5";
	process.env.PASSWORD_CHECK_LIMIT = "2";
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

/** An account made through the users service itself, leaving the address's budget on /api/auth alone. */
async function account(email: string): Promise<string> {
	const { token } = await shop.brokers[0].call<{ token: string }, object>("users.register", { email, password: "correct-horse-1", name: "Limited" });
	return token;
}

it("answers 429 to an account's third password change in a window, and lets other changes and accounts through", async () => {
	const token = await account("guesser@example.com");
	const guesses: number[] = [];
	for (let i = 0; i < 3; i++) {
		guesses.push((await api.patch("/api/users/me", { password: "new-password-1", currentPassword: `guess-${i}` }, { token })).status);
	}
	expect(guesses).toEqual([422, 422, 429]);
	const limited = await api.patch("/api/users/me", { password: "new-password-1", currentPassword: "correct-horse-1" }, { token });
	expect(limited.status).toBe(429);
	expect(limited.body).toMatchObject({ code: 429, type: "TOO_MANY_PASSWORD_CHECKS" });
	expect((await api.patch("/api/users/me", { name: "Renamed" }, { token })).status).toBe(200);

	const other = await account("owner@example.com");
	expect((await api.patch("/api/users/me", { password: "new-password-1", currentPassword: "correct-horse-1" }, { token: other })).status).toBe(200);
});
