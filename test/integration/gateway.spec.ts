/** What every client of the gateway can rely on: JSON errors, request IDs, probes. */
import { startShop, type ShopCluster } from "../helpers/cluster";
import { client, type Client } from "../helpers/http";

let shop: ShopCluster;
let api: Client;

beforeAll(async () => {
	shop = await startShop();
	api = client(shop.url);
});
afterAll(() => shop.stop());

it("answers an unknown route with a JSON 404", async () => {
	for (const path of ["/api/nothing-here", "/elsewhere"]) {
		const res = await api.get(path);
		expect(res.status).toBe(404);
		expect(res.headers.get("content-type")).toMatch(/application\/json/);
		expect(res.body).toMatchObject({ code: 404, name: expect.any(String), message: expect.any(String) });
	}
});

it("does not publish actions that have no route", async () => {
	const res = await api.post("/api/users/resolveToken", { token: "x" });
	expect(res.status).toBe(404);
});

it("refuses a body over the limit with 413, and malformed JSON with 400", async () => {
	const tooBig = await api.post("/api/auth/register", { email: "big@example.com", password: "x".repeat(200_000), name: "Big" });
	expect(tooBig.status).toBe(413);
	expect(tooBig.body).toMatchObject({ code: 413, type: "PAYLOAD_TOO_LARGE" });

	const malformed = await api.post("/api/auth/login", undefined, { rawBody: "{not json" });
	expect(malformed.status).toBe(400);
	expect(malformed.body).toMatchObject({ code: 400, type: "INVALID_JSON" });
	expect(JSON.stringify(malformed.body)).not.toMatch(/at .*\.js/);
});

it("echoes the client's X-Request-ID, and makes one when there is none", async () => {
	const echoed = await api.get("/api/users/me", { headers: { "x-request-id": "trace-123" } });
	expect(echoed.headers.get("x-request-id")).toBe("trace-123");

	const made = await api.get("/health");
	expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);

	const unsafe = await api.get("/health", { headers: { "x-request-id": "a b <script>" } });
	expect(unsafe.headers.get("x-request-id")).not.toBe("a b <script>");
});

it("answers liveness and readiness probes", async () => {
	const health = await api.get("/health");
	expect(health.status).toBe(200);
	expect(health.body.status).toBe("ok");

	const ready = await api.get("/ready");
	expect(ready.status).toBe(200);
	expect(ready.body).toEqual({ status: "ready", missing: [] });
});
