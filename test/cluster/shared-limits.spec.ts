/**
 * Limits shared between gateways: with the Redis cacher of compose, two gateway instances
 * count a client's attempts together, so the limit holds once behind a load balancer, not
 * once per instance.
 */
import type { ComposeCluster } from "./compose-cluster";
import { startCluster } from "./running-cluster";
import { client, newCustomer, type Client, type Reply } from "../helpers/http";

/** The defaults, as compose leaves them. */
const AUTH_RATE_LIMIT = 20;
const PASSWORD_CHECK_LIMIT = 5;
const AUTH_RATE_WINDOW_MS = 60_000;

/**
 * The limits count in fixed windows aligned to the clock (src/gateway/rate-limit-store.ts):
 * a test whose attempts straddled the end of one would see its count start again. Waits
 * for the next window unless this one has `needMs` left.
 */
async function inOneWindow(needMs = 20_000): Promise<void> {
	const left = AUTH_RATE_WINDOW_MS - (Date.now() % AUTH_RATE_WINDOW_MS);
	if (left < needMs) await new Promise(resolve => setTimeout(resolve, left + 100));
}

let cluster: ComposeCluster;
let gateways: Client[];

jest.setTimeout(180_000);

beforeAll(async () => {
	({ cluster } = await startCluster({ api: 2 }));
	gateways = cluster.apiUrls().map(client);
}, 180_000);

afterAll(async () => {
	await cluster?.stopAll();
});

/** Compose's gateways trust X-Forwarded-For (TRUST_PROXY), as behind Traefik: each test is a client of its own. */
const from = (address: string) => ({ headers: { "x-forwarded-for": address } });

it("holds the auth rate limit across two gateways: the 21st attempt is refused by either", async () => {
	expect(gateways).toHaveLength(2);
	await inOneWindow();
	const attempts: Reply[] = [];
	for (let i = 0; i < AUTH_RATE_LIMIT + 2; i++) {
		attempts.push(await gateways[i % 2].post("/api/auth/login", { email: "nobody@shop.test", password: `guess-number-${i}` }, from("198.51.100.7")));
	}
	expect(attempts.map(r => r.status)).toEqual([...Array(AUTH_RATE_LIMIT).fill(401), 429, 429]);
	// Both gateways count down the same budget.
	expect(attempts.slice(0, 4).map(r => r.headers.get("x-rate-limit-remaining"))).toEqual(["19", "18", "17", "16"]);

	// Another client is not held back by the first.
	expect((await gateways[1].post("/api/auth/login", { email: "nobody@shop.test", password: "guess-number-x" }, from("198.51.100.8"))).status).toBe(401);
});

it("holds the password-check limit of an account across two gateways", async () => {
	const { token } = await newCustomer(gateways[0]);
	await inOneWindow();
	const statuses: number[] = [];
	for (let i = 0; i < PASSWORD_CHECK_LIMIT + 2; i++) {
		const res = await gateways[i % 2].patch("/api/users/me", { password: "new-password-1", currentPassword: `guess-${i}` }, { token });
		statuses.push(res.status);
	}
	expect(statuses).toEqual([...Array(PASSWORD_CHECK_LIMIT).fill(422), 429, 429]);
});
