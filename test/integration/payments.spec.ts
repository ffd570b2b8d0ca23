/** Payments: charges as orders make them (broker calls), refunds and reading through the gateway. */
import type { ServiceBroker } from "moleculer";
import { eventProbe, startShop, waitFor, type SeenEvent, type ShopCluster } from "../helpers/cluster";
import { adminToken, client, newCustomer, type Client } from "../helpers/http";

let shop: ShopCluster;
let api: Client;
let broker: ServiceBroker;
let admin: string;
let events: SeenEvent[] = [];

beforeAll(async () => {
	shop = await startShop();
	api = client(shop.url);
	broker = shop.brokers[0];
	admin = await adminToken(api);
	events = await eventProbe(broker, "payment-events-spy", ["payment.succeeded", "payment.failed", "payment.refunded"]);
});
afterAll(() => shop.stop());

const CARD = { number: "4242 4242 4242 4242", expMonth: 12, expYear: new Date().getUTCFullYear() + 3, cvc: "123" };
const DECLINED = "4000000000000002";
const NO_FUNDS = "4000000000009995";

let orderSeq = 0;
const newOrderId = () => `order-${Date.now()}-${(orderSeq += 1)}`;

type Customer = Awaited<ReturnType<typeof newCustomer>>;

function charge(customer: Customer, fields: { orderId?: string; amount?: number; card?: Partial<typeof CARD> } = {}) {
	const { orderId = newOrderId(), amount = 2599, card } = fields;
	return broker.call<any, any>(
		"payments.charge",
		{ orderId, userId: customer.user.id, amount, currency: "USD", card: { ...CARD, ...card } },
		{ meta: { user: { ...customer.user, role: "customer" } } },
	);
}

/** The stored records of the payments service, read past its actions. */
function storedPayments(query: object): Promise<Record<string, unknown>[]> {
	const service = broker.getLocalService("payments") as unknown as { adapter: { find(filters: object): Promise<Record<string, unknown>[]> } };
	return service.adapter.find({ query });
}

describe("charge", () => {
	it("charges 4242 4242 4242 4242 and keeps only brand and last four, in the store, the answer and the event", async () => {
		const customer = await newCustomer(api);
		const orderId = newOrderId();
		const payment = await charge(customer, { orderId });
		expect(payment).toEqual({
			id: expect.any(String),
			orderId,
			userId: customer.user.id,
			amount: 2599,
			currency: "USD",
			status: "succeeded",
			card: { brand: "visa", last4: "4242" },
			refundedAmount: 0,
			createdAt: expect.any(String),
			updatedAt: expect.any(String),
		});

		const stored = await storedPayments({ orderId });
		expect(stored).toHaveLength(1);
		expect(stored[0]).toMatchObject({ status: "succeeded", card: { brand: "visa", last4: "4242" } });
		expect(stored[0]).not.toHaveProperty("card.number");
		expect(stored[0]).not.toHaveProperty("card.cvc");
		expect(JSON.stringify(stored)).not.toMatch(/4242424242424242|4242 4242 4242 4242/);

		const asAdmin = await api.get("/api/payments?pageSize=100", { token: admin });
		expect(asAdmin.status).toBe(200);
		expect(JSON.stringify(asAdmin.body)).not.toMatch(/4242424242424242|4242 4242 4242 4242/);

		const event = await waitFor(() => events.find(e => e.event === "payment.succeeded" && e.payload.data.orderId === orderId), "the event");
		expect(event?.payload).toMatchObject({
			id: expect.any(String),
			type: "payment.succeeded",
			data: { paymentId: payment.id, orderId, userId: customer.user.id, amount: 2599, currency: "USD" },
		});
		expect(JSON.stringify(events)).not.toContain("4242424242424242");
	});

	it("answers 402 card_declined for 4000 0000 0000 0002 and keeps a failed payment", async () => {
		const customer = await newCustomer(api);
		const orderId = newOrderId();
		await expect(charge(customer, { orderId, card: { number: DECLINED } })).rejects.toMatchObject({
			name: "PaymentDeclinedError",
			code: 402,
			type: "card_declined",
			data: { orderId, paymentId: expect.any(String) },
		});
		const payment = await broker.call<any, any>("payments.byOrder", { orderId });
		expect(payment).toMatchObject({ status: "failed", failureReason: "card_declined", card: { last4: "0002" } });
		const event = await waitFor(() => events.find(e => e.event === "payment.failed" && e.payload.data.orderId === orderId), "the event");
		expect(event?.payload.data).toMatchObject({ paymentId: payment.id, reason: "card_declined", amount: 2599 });
	});

	it("answers 402 insufficient_funds for 4000 0000 0000 9995, and the same 402 when the order is charged again", async () => {
		const customer = await newCustomer(api);
		const orderId = newOrderId();
		const expected = { code: 402, type: "insufficient_funds", data: { orderId } };
		await expect(charge(customer, { orderId, card: { number: NO_FUNDS } })).rejects.toMatchObject(expected);
		await expect(charge(customer, { orderId, card: { number: NO_FUNDS } })).rejects.toMatchObject(expected);
		expect(await storedPayments({ orderId })).toHaveLength(1);
	});

	it.each([
		["a number that fails Luhn", { number: "4242424242424241" }, ["card.number"]],
		["an expired card", { expMonth: 1, expYear: 2020 }, ["card.expYear"]],
		["a CVC of two digits", { cvc: "12" }, ["card.cvc"]],
		["an Amex card with a three-digit CVC", { number: "378282246310005", cvc: "123" }, ["card.cvc"]],
		["all of them", { number: "1234 5678", expMonth: 13, cvc: "abcd" }, ["card.cvc", "card.expMonth", "card.number"]],
	])("answers 422 naming the fields for %s, and stores nothing", async (_what, card, fields) => {
		const customer = await newCustomer(api);
		const orderId = newOrderId();
		const err = await charge(customer, { orderId, card }).catch(e => e);
		expect(err).toMatchObject({ code: 422 });
		expect(err.data.map((d: { field: string }) => d.field).sort()).toEqual(fields);
		expect(JSON.stringify(err.data)).not.toMatch(/4242424242424241|378282246310005/);
		expect(await storedPayments({ orderId })).toEqual([]);
		expect(await broker.call("payments.byOrder", { orderId })).toBeNull();
	});

	it("refuses an amount that is not a positive whole number of minor units", async () => {
		const customer = await newCustomer(api);
		for (const amount of [0, -5, 10.5]) await expect(charge(customer, { amount })).rejects.toMatchObject({ code: 422 });
	});

	it("answers a second charge of the same order with the same payment", async () => {
		const customer = await newCustomer(api);
		const orderId = newOrderId();
		const first = await charge(customer, { orderId });
		const second = await charge(customer, { orderId });
		expect(second).toEqual(first);
		await waitFor(() => events.find(e => e.event === "payment.succeeded" && e.payload.data.orderId === orderId), "the event");
		expect(events.filter(e => e.event === "payment.succeeded" && e.payload.data.orderId === orderId)).toHaveLength(1);
	});

	it("gives exactly one succeeded payment when the same order is charged many times at once", async () => {
		const customer = await newCustomer(api);
		const orderId = newOrderId();
		const results = await Promise.allSettled(Array.from({ length: 6 }, () => charge(customer, { orderId })));

		const paid = results.filter(r => r.status === "fulfilled").map(r => (r as PromiseFulfilledResult<any>).value);
		expect(paid.length).toBeGreaterThanOrEqual(1);
		expect(new Set(paid.map(p => p.id)).size).toBe(1);
		for (const r of results) if (r.status === "rejected") expect(r.reason).toMatchObject({ code: 409, type: "PAYMENT_IN_PROGRESS" });

		const stored = await storedPayments({ orderId });
		expect(stored).toHaveLength(1);
		expect(stored[0].status).toBe("succeeded");
		await waitFor(() => events.find(e => e.event === "payment.succeeded" && e.payload.data.orderId === orderId), "the event");
		expect(events.filter(e => e.event === "payment.succeeded" && e.payload.data.orderId === orderId)).toHaveLength(1);
	});

	it("is not reachable over HTTP", async () => {
		const { token } = await newCustomer(api);
		const res = await api.post("/api/payments", { orderId: "x", userId: "y", amount: 1, currency: "USD", card: CARD }, { token });
		expect(res.status).toBe(404);
	});
});

describe("refund", () => {
	it("lets an admin refund a payment in full over HTTP, once: a second refund is a 409", async () => {
		const customer = await newCustomer(api);
		const payment = await charge(customer, { amount: 4200 });

		const refunded = await api.post(`/api/payments/${payment.id}/refund`, undefined, { token: admin });
		expect(refunded.status).toBe(200);
		expect(refunded.body).toMatchObject({ id: payment.id, status: "refunded", amount: 4200, refundedAmount: 4200 });

		const again = await api.post(`/api/payments/${payment.id}/refund`, undefined, { token: admin });
		expect(again.status).toBe(409);
		expect(again.body).toMatchObject({ name: "ConflictError", type: "NOT_REFUNDABLE" });

		const event = await waitFor(() => events.find(e => e.event === "payment.refunded" && e.payload.data.paymentId === payment.id), "the event");
		expect(event?.payload.data).toMatchObject({ orderId: payment.orderId, userId: customer.user.id, amount: 4200, currency: "USD" });
	});

	it("refunds once when two admins refund at the same moment", async () => {
		const customer = await newCustomer(api);
		const payment = await charge(customer);
		const statuses = (await Promise.all([1, 2, 3].map(() => api.post(`/api/payments/${payment.id}/refund`, undefined, { token: admin }))))
			.map(r => r.status)
			.sort();
		expect(statuses).toEqual([200, 409, 409]);
		await waitFor(() => events.find(e => e.event === "payment.refunded" && e.payload.data.paymentId === payment.id), "the event");
		expect(events.filter(e => e.event === "payment.refunded" && e.payload.data.paymentId === payment.id)).toHaveLength(1);
	});

	it("answers 403 to a customer, even the owner, and refunds nothing", async () => {
		const customer = await newCustomer(api);
		const payment = await charge(customer);
		const res = await api.post(`/api/payments/${payment.id}/refund`, undefined, { token: customer.token });
		expect(res.status).toBe(403);
		expect((await api.get(`/api/payments/${payment.id}`, { token: customer.token })).body.status).toBe("succeeded");
	});

	it("answers 409 for a failed payment and 404 for an unknown one", async () => {
		const customer = await newCustomer(api);
		const orderId = newOrderId();
		await charge(customer, { orderId, card: { number: DECLINED } }).catch(() => undefined);
		const failed = await broker.call<any, any>("payments.byOrder", { orderId });
		expect((await api.post(`/api/payments/${failed.id}/refund`, undefined, { token: admin })).status).toBe(409);
		expect((await api.post("/api/payments/no-such-payment/refund", undefined, { token: admin })).status).toBe(404);
	});

	it("refunds the payment of a cancelled order for orders, with the customer as caller", async () => {
		const customer = await newCustomer(api);
		const orderId = newOrderId();
		const payment = await charge(customer, { orderId });
		const meta = { user: { ...customer.user, role: "customer" } };
		const refunded = await broker.call<any, any>("payments.refundOrder", { orderId, reason: "order_cancelled" }, { meta });
		expect(refunded).toMatchObject({ id: payment.id, status: "refunded", refundedAmount: payment.amount });
		expect(await broker.call("payments.refundOrder", { orderId: newOrderId(), reason: "order_cancelled" }, { meta })).toBeNull();
	});
});

describe("reading payments", () => {
	it("shows a customer only their own payments, newest first, and 404 for another's", async () => {
		const ann = await newCustomer(api, "Ann");
		const bob = await newCustomer(api, "Bob");
		const first = await charge(ann, { amount: 100 });
		await new Promise(resolve => setTimeout(resolve, 5)); // a later createdAt
		const second = await charge(ann, { amount: 200 });
		const bobs = await charge(bob, { amount: 300 });

		const list = await api.get("/api/payments", { token: ann.token });
		expect(list.status).toBe(200);
		expect(list.body).toMatchObject({ total: 2, page: 1, totalPages: 1 });
		expect(list.body.rows.map((p: { id: string }) => p.id)).toEqual([second.id, first.id]);

		const paged = await api.get("/api/payments?page=2&pageSize=1", { token: ann.token });
		expect(paged.body).toMatchObject({ total: 2, page: 2, pageSize: 1, totalPages: 2 });
		expect(paged.body.rows.map((p: { id: string }) => p.id)).toEqual([first.id]);

		expect((await api.get(`/api/payments/${first.id}`, { token: ann.token })).body).toEqual(first);
		const foreign = await api.get(`/api/payments/${bobs.id}`, { token: ann.token });
		expect(foreign.status).toBe(404);
		// The same answer as for a payment that does not exist: nothing tells that it does.
		const missing = await api.get("/api/payments/no-such-payment", { token: ann.token });
		const withoutData = ({ name, message, code, type }: any) => ({ name, message, code, type });
		expect(withoutData(foreign.body)).toEqual(withoutData(missing.body));
		expect(JSON.stringify(foreign.body)).not.toContain(bob.user.id);
	});

	it("shows an admin every payment and any one of them", async () => {
		const ann = await newCustomer(api, "Ann");
		const bob = await newCustomer(api, "Bob");
		const anns = await charge(ann);
		const bobs = await charge(bob);
		const list = await api.get("/api/payments?pageSize=100", { token: admin });
		expect(list.status).toBe(200);
		const ids = list.body.rows.map((p: { id: string }) => p.id);
		expect(ids).toEqual(expect.arrayContaining([anns.id, bobs.id]));
		expect(list.body.total).toBeGreaterThanOrEqual(2);
		expect((await api.get(`/api/payments/${bobs.id}`, { token: admin })).body).toMatchObject({ id: bobs.id, userId: bob.user.id });
	});

	it("answers 401 without a token", async () => {
		expect((await api.get("/api/payments")).status).toBe(401);
		expect((await api.get("/api/payments/any")).status).toBe(401);
	});

	it("gives orders and users.summary a payment by order and a user's newest payments", async () => {
		const customer = await newCustomer(api);
		const orderId = newOrderId();
		// Payments are ordered by creation time in milliseconds: make the three distinct.
		const nextMillisecond = () => new Promise(resolve => setTimeout(resolve, 2));
		const payment = await charge(customer, { orderId });
		await nextMillisecond();
		await charge(customer);
		await nextMillisecond();
		await charge(customer);
		expect(await broker.call("payments.byOrder", { orderId })).toEqual(payment);
		const newest = await broker.call<any[], any>("payments.listForUser", { userId: customer.user.id, limit: 2 });
		expect(newest).toHaveLength(2);
		expect(newest.map(p => p.id)).not.toContain(payment.id);
		expect(await broker.call<any[], any>("payments.listForUser", { userId: customer.user.id })).toHaveLength(3);
	});
});
