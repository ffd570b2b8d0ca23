/**
 * Analytics through the gateway: the reports follow what happens in the shop, each event
 * counts once, and only admins see them. The shop is shared by the tests of this file, so
 * each test compares with a summary taken when it starts, and waits until its own events
 * have arrived (they are asynchronous) before it ends.
 */
import type { BusinessEvent } from "../../src/events";
import { businessEvent } from "../../src/events";
import { startShop, waitFor, type ShopCluster } from "../helpers/cluster";
import { adminToken, client, newCustomer, type Client } from "../helpers/http";
import { cardPayment, createProduct, SANDBOX_CARDS } from "../helpers/fixtures";

type Summary = {
	orders: number;
	revenue: Record<string, number>;
	signups: number;
	paymentFailures: number;
	refunds: { count: number; amount: Record<string, number> };
	cancellations: number;
	eventsRecorded: number;
};
type TopProduct = { productId: string; name: string; units: number; revenue: number; currency: string };

let shop: ShopCluster;
let api: Client;
let admin: string;

beforeAll(async () => {
	shop = await startShop();
	api = client(shop.url);
	admin = await adminToken(api);
});
afterAll(() => shop.stop());

const newProduct = (name: string, price: number, stock = 50) => createProduct(api, admin, { name, price, stock });

function order(token: string, items: { productId: string; quantity: number }[], cardNumber: string = SANDBOX_CARDS.succeeds) {
	return api.post("/api/orders", { items, payment: cardPayment(cardNumber) }, { token });
}

async function summary(): Promise<Summary> {
	const res = await api.get("/api/analytics/summary", { token: admin });
	expect(res.status).toBe(200);
	return res.body;
}

async function topProducts(): Promise<TopProduct[]> {
	const res = await api.get("/api/analytics/top-products?limit=100", { token: admin });
	expect(res.status).toBe(200);
	return res.body;
}

function today(): string {
	return new Date().toISOString().slice(0, 10);
}

async function salesToday(): Promise<{ date: string; orders: number; revenue: Record<string, number> }> {
	const res = await api.get(`/api/analytics/sales?from=${today()}&to=${today()}`, { token: admin });
	expect(res.status).toBe(200);
	expect(res.body).toHaveLength(1);
	return res.body[0];
}

/** The summary once `expected` holds for it; fails with the last summary seen if it never does. */
async function summaryWhen(expected: (s: Summary) => boolean, what: string): Promise<Summary> {
	let last: Summary | undefined;
	try {
		return await waitFor(async () => {
			last = await summary();
			return expected(last) ? last : undefined;
		}, what);
	} catch (err) {
		throw new Error(`${(err as Error).message}; last summary: ${JSON.stringify(last)}`);
	}
}

const usd = (amounts: Record<string, number>) => amounts.USD ?? 0;

type AnalyticsInternals = {
	schema: { durableEvents: Record<string, (event: BusinessEvent) => Promise<void>> };
	inbox: { count(): Promise<number> };
	log: { insertIfNew(doc: object): Promise<boolean>; byId(id: string): Promise<object | null> };
	findEntities(filters: object): Promise<{ _id: string; batches?: string[] }[]>;
	insertEntity(doc: object): Promise<unknown>;
	countEntities(query: object): Promise<number>;
	purgeLog(): Promise<number>;
};

function analyticsService(): AnalyticsInternals {
	return shop.brokers[0].getLocalService("analytics") as never;
}

/** Once the roller has counted everything delivered so far. */
const inboxEmpty = () => waitFor(async () => ((await analyticsService().inbox.count()) === 0 ? true : undefined), "the analytics inbox to be counted");

function paidEvent(productId: string, total = 100) {
	return businessEvent("order.paid", {
		orderId: `order-${Math.random()}`,
		userId: "someone",
		status: "paid",
		total,
		currency: "USD",
		items: [{ productId, name: productId, unitPrice: total, quantity: 1, lineTotal: total }],
		reason: null,
		paymentId: "pay",
	});
}

it("counts sign-ups, paid orders, declined payments, refunds and cancellations from the shop's events", async () => {
	const before = await summary();
	const salesBefore = await salesToday();
	const mug = await newProduct("Analytics mug", 1250);
	const tea = await newProduct("Analytics tea", 300);
	const alice = await newCustomer(api, "Alice");
	const bob = await newCustomer(api, "Bob");

	expect(
		(
			await order(alice.token, [
				{ productId: mug, quantity: 2 },
				{ productId: tea, quantity: 1 },
			])
		).status,
	).toBe(201);
	const bobs = await order(bob.token, [{ productId: mug, quantity: 1 }]);
	expect(bobs.status).toBe(201);
	expect((await order(bob.token, [{ productId: tea, quantity: 1 }], SANDBOX_CARDS.declined)).status).toBe(402);
	expect((await api.post(`/api/orders/${bobs.body.id}/cancel`, undefined, { token: bob.token })).status).toBe(200);

	const after = await summaryWhen(
		s =>
			s.orders === before.orders + 2 &&
			s.signups === before.signups + 2 &&
			s.paymentFailures === before.paymentFailures + 1 &&
			s.refunds.count === before.refunds.count + 1 &&
			s.cancellations === before.cancellations + 1 &&
			// 2 product.created, 2 user.registered, 3 order.created, 2 order.paid, 2 payment.succeeded,
			// 1 payment.failed, 1 order.payment_failed, 1 payment.refunded, 1 order.cancelled: every event is logged.
			s.eventsRecorded >= before.eventsRecorded + 15,
		"the events of the orders, sign-ups, failure and refund",
	);
	expect(usd(after.revenue) - usd(before.revenue)).toBe(2 * 1250 + 300 + 1250);
	expect(usd(after.refunds.amount) - usd(before.refunds.amount)).toBe(1250);

	const sales = await salesToday();
	expect(sales.date).toBe(today());
	expect(sales.orders - salesBefore.orders).toBe(2);
	expect(usd(sales.revenue) - usd(salesBefore.revenue)).toBe(2 * 1250 + 300 + 1250);

	const top = await topProducts();
	expect(top.find(p => p.productId === mug)).toEqual({ productId: mug, name: "Analytics mug", units: 3, revenue: 3750, currency: "USD" });
	expect(top.find(p => p.productId === tea)).toEqual({ productId: tea, name: "Analytics tea", units: 1, revenue: 300, currency: "USD" });
	const ranked = [...top].sort((a, b) => b.units - a.units || b.revenue - a.revenue);
	expect(top.map(p => [p.units, p.revenue])).toEqual(ranked.map(p => [p.units, p.revenue]));
});

it("counts an event delivered twice once", async () => {
	const service = analyticsService();
	const handle = service.schema.durableEvents["order.paid"];
	const productId = `twice-${Date.now()}`;
	const event = businessEvent("order.paid", {
		orderId: `order-${productId}`,
		userId: "someone",
		status: "paid",
		total: 4200,
		currency: "USD",
		items: [{ productId, name: "Twice", unitPrice: 2100, quantity: 2, lineTotal: 4200 }],
		reason: null,
		paymentId: "pay-twice",
	});
	const before = await summary();

	await handle.call(service, event);
	const once = await summaryWhen(s => s.orders === before.orders + 1, "the order counted");
	expect(usd(once.revenue)).toBe(usd(before.revenue) + 4200);

	await handle.call(service, event);
	await inboxEmpty();
	const twice = await summary();
	expect(twice.orders).toBe(once.orders);
	expect(twice.revenue).toEqual(once.revenue);
	expect(twice.eventsRecorded).toBe(once.eventsRecorded);
	expect((await topProducts()).find(p => p.productId === productId)).toMatchObject({ units: 2, revenue: 4200 });

	const logged = await api.get("/api/analytics/events?type=order.paid&pageSize=100", { token: admin });
	expect(logged.status).toBe(200);
	expect(logged.body.rows.filter((e: { eventId: string }) => e.eventId === event.id)).toEqual([
		{ eventId: event.id, type: "order.paid", at: event.at, data: event.data },
	]);
});

it("counts every event once when deliveries run at the same time, also on a rollup that does not exist yet", async () => {
	const service = analyticsService();
	const handle = service.schema.durableEvents["order.paid"];
	const productId = `concurrent-${Date.now()}`;
	const repeated = paidEvent(productId);
	const before = await summary();

	await Promise.all([
		...Array.from({ length: 20 }, () => handle.call(service, paidEvent(productId))),
		...Array.from({ length: 5 }, () => handle.call(service, repeated)),
	]);

	const after = await summaryWhen(s => s.orders >= before.orders + 21, "21 orders counted");
	await inboxEmpty();
	expect((await topProducts()).find(p => p.productId === productId)).toMatchObject({ units: 21, revenue: 2100 });
	expect((await summary()).orders - before.orders).toBe(21);
	expect(usd(after.revenue) - usd(before.revenue)).toBe(2100);
});

it("counts a burst of events while the reports keep answering, and leaves no marks in the rollups", async () => {
	const service = analyticsService();
	const handle = service.schema.durableEvents["order.paid"];
	const productId = `burst-${Date.now()}`;
	const before = await summary();

	const deliveries = Promise.all(Array.from({ length: 1000 }, () => handle.call(service, paidEvent(productId, 7))));
	const during = await summary();
	expect(during.orders).toBeGreaterThanOrEqual(before.orders);
	await deliveries;

	const after = await summaryWhen(s => s.orders >= before.orders + 1000, "the burst counted");
	await inboxEmpty();
	expect((await summary()).orders - before.orders).toBe(1000);
	expect(usd(after.revenue) - usd(before.revenue)).toBe(7000);
	expect((await topProducts()).find(p => p.productId === productId)).toMatchObject({ units: 1000, revenue: 7000 });
	for (const rollup of await service.findEntities({ query: { kind: "rollup" } })) expect(rollup.batches ?? []).toEqual([]);
});

it("lists the event log newest first, by type if asked", async () => {
	const customer = await newCustomer(api, "Logged");
	const entry = await waitFor(async () => {
		const res = await api.get("/api/analytics/events?type=user.registered&pageSize=100", { token: admin });
		return res.body.rows.find((e: { data: { userId: string } }) => e.data.userId === customer.user.id);
	}, "the user.registered entry");
	// The account's id, and neither the name nor the address of whoever signed up.
	expect(entry).toMatchObject({ type: "user.registered", data: { userId: customer.user.id } });
	expect(JSON.stringify(entry.data)).not.toMatch(/Logged|@/);

	const page = await api.get("/api/analytics/events?pageSize=5", { token: admin });
	expect(page.status).toBe(200);
	expect(page.body).toMatchObject({ page: 1, pageSize: 5 });
	expect(page.body.rows.length).toBeLessThanOrEqual(5);
	expect(page.body.total).toBeGreaterThan(1);
	const times = page.body.rows.map((e: { at: string }) => e.at);
	expect(times).toEqual([...times].sort().reverse());
});

it("removes log entries past their retention and keeps the rollups", async () => {
	const service = analyticsService();
	const eventId = `old-${Date.now()}`;
	const old = new Date(Date.now() - 400 * 24 * 60 * 60 * 1000).toISOString();
	await service.log.insertIfNew({ _id: eventId, type: "user.registered", at: old, data: {}, receivedAt: old, batchId: "old-batch" });
	const before = await summary();

	expect(await service.purgeLog()).toBeGreaterThanOrEqual(1);
	expect(await service.log.byId(eventId)).toBeNull();
	expect((await summary()).eventsRecorded).toBe(before.eventsRecorded);
});

it("shows the reports to admins only", async () => {
	const { token } = await newCustomer(api);
	for (const path of ["/api/analytics/summary", "/api/analytics/sales", "/api/analytics/top-products", "/api/analytics/events"]) {
		expect((await api.get(path, { token })).status).toBe(403);
		expect((await api.get(path)).status).toBe(401);
	}
});

it("answers 422 to a date range that is not valid, and 30 days of rows by default", async () => {
	const get = (query: string) => api.get(`/api/analytics/sales${query}`, { token: admin });
	for (const query of ["?from=2024-01-01&to=2025-01-01", "?from=2026-03-02&to=2026-03-01", "?from=2026-02-30", "?from=yesterday", "?interval=week"]) {
		const res = await get(query);
		expect({ query, status: res.status }).toEqual({ query, status: 422 });
	}
	const year = await get("?from=2024-01-01&to=2024-12-31");
	expect(year.status).toBe(200);
	expect(year.body).toHaveLength(366);

	const recent = await get("");
	expect(recent.status).toBe(200);
	expect(recent.body).toHaveLength(30);
	expect(recent.body[29].date).toBe(today());
	expect(recent.body[0]).toEqual({ date: expect.any(String), orders: expect.any(Number), revenue: expect.any(Object) });

	expect((await api.get("/api/analytics/top-products?limit=0", { token: admin })).status).toBe(422);
	expect((await api.get("/api/analytics/top-products?limit=101", { token: admin })).status).toBe(422);
});
