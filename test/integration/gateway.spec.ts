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

it("routes exactly the API of the contract, each route with its access rule", async () => {
	const broker = shop.brokers[0];
	const aliases = await broker.call<{ methods: string; fullPath: string; actionName: string }[]>("api.listAliases");
	const authOf = (action: string) =>
		(broker.registry.getActionList({}) as unknown as { name: string; action: { auth?: string } }[]).find(a => a.name === action)?.action.auth ?? "anyone";
	const routes = aliases.map(a => `${a.methods} ${a.fullPath} ${a.actionName} ${authOf(a.actionName)}`).sort();
	expect(routes).toEqual(
		[
			"POST /api/auth/register users.register anyone",
			"POST /api/auth/login users.login anyone",
			"GET /api/users/me users.me required",
			"PATCH /api/users/me users.update required",
			"GET /api/users/me/summary users.summary required",
			"GET /api/users users.list admin",
			"GET /api/users/:id users.get admin",
			"GET /api/products catalog.list anyone",
			"GET /api/products/:id catalog.get anyone",
			"POST /api/products catalog.create admin",
			"PATCH /api/products/:id catalog.update admin",
			"DELETE /api/products/:id catalog.remove admin",
			"POST /api/products/:id/stock catalog.adjustStock admin",
			"POST /api/orders orders.create required",
			"GET /api/orders orders.list required",
			"GET /api/orders/:id orders.get required",
			"POST /api/orders/:id/cancel orders.cancel required",
			"PATCH /api/orders/:id/status orders.setStatus admin",
			"GET /api/payments payments.list required",
			"GET /api/payments/:id payments.get required",
			"POST /api/payments/:id/refund payments.refund admin",
			"GET /api/notifications notifications.list required",
			"POST /api/notifications/:id/read notifications.markRead required",
			"POST /api/notifications/read-all notifications.markAllRead required",
			"POST /api/promotions notifications.broadcastPromotion admin",
			"GET /api/analytics/summary analytics.summary admin",
			"GET /api/analytics/sales analytics.sales admin",
			"GET /api/analytics/top-products analytics.topProducts admin",
			"GET /api/analytics/events analytics.events admin",
			"GET /api/discovery/nodes discovery.nodes admin",
			"GET /api/discovery/services discovery.services admin",
			"GET /api/discovery/services/:name discovery.service admin",
			"GET /api/discovery/history discovery.history admin",
			"GET /api/discovery/health discovery.health anyone",
			"GET /api/discovery/dead-letters discovery.deadLetters admin",
			"POST /api/discovery/dead-letters/:id/replay discovery.replayDeadLetter admin",
			"GET /health api.health anyone",
			"GET /ready api.ready anyone",
			"GET /api/openapi.json api.openapi anyone",
			// The docs page and its files: served by the gateway itself, no action behind them.
			"GET /api/docs null anyone",
			"GET /api/docs/:file null anyone",
		].sort(),
	);
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
