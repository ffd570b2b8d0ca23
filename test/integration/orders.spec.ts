/** The order saga through the gateway: stock, charges, refunds, idempotency and the state machine. */
import { startShop, waitFor, type ShopCluster } from "../helpers/cluster";
import { cardPayment, createProduct, SANDBOX_CARDS } from "../helpers/fixtures";
import { adminToken, client, newCustomer, type Client } from "../helpers/http";

const CARDS = { ok: SANDBOX_CARDS.succeeds, declined: SANDBOX_CARDS.declined, insufficientFunds: SANDBOX_CARDS.insufficientFunds };

let shop: ShopCluster;
let api: Client;
let admin: string;

const card = cardPayment;
const newProduct = (stock: number, price = 1250) => createProduct(api, admin, { stock, price });

async function stockOf(productId: string): Promise<number> {
	const res = await api.get(`/api/products/${productId}`);
	return res.body.stock;
}

function order(token: string, items: { productId: string; quantity: number }[], cardNumber: string = CARDS.ok, key?: string) {
	return api.post("/api/orders", { items, payment: card(cardNumber) }, { token, headers: key ? { "idempotency-key": key } : {} });
}

async function paymentsOf(token: string): Promise<{ id: string; status: string; orderId: string; amount: number }[]> {
	return (await api.get("/api/payments?pageSize=100", { token })).body.rows;
}

beforeAll(async () => {
	shop = await startShop();
	api = client(shop.url);
	admin = await adminToken(api);
});
afterAll(() => shop.stop());

it("places, pays, shows, summarizes and cancels an order, refunding and restocking", async () => {
	const productId = await newProduct(10, 1250);
	const { token } = await newCustomer(api, "Buyer");

	const placed = await order(token, [{ productId, quantity: 2 }]);
	expect(placed.status).toBe(201);
	expect(placed.body).toMatchObject({ status: "paid", total: 2500, currency: "USD", items: [{ productId, quantity: 2, unitPrice: 1250, lineTotal: 2500 }] });
	expect(placed.body.history.map((h: { status: string }) => h.status)).toEqual(["pending", "paid"]);
	expect(await stockOf(productId)).toBe(8);

	expect((await api.get(`/api/orders/${placed.body.id}`, { token })).body.status).toBe("paid");
	const [payment] = await paymentsOf(token);
	expect(payment).toMatchObject({ orderId: placed.body.id, amount: 2500, status: "succeeded", card: { brand: "visa", last4: "4242" } });
	expect(JSON.stringify(payment)).not.toContain(CARDS.ok);

	const summary = await api.get("/api/users/me/summary", { token });
	expect(summary.status).toBe(200);
	expect(summary.body).toMatchObject({ orderCount: 1, totalSpent: { USD: 2500 }, user: { name: "Buyer" } });
	expect(summary.body.recentOrders[0].id).toBe(placed.body.id);
	expect(summary.body.recentPayments[0].id).toBe(payment.id);

	const cancelled = await api.post(`/api/orders/${placed.body.id}/cancel`, undefined, { token });
	expect(cancelled.status).toBe(200);
	expect(cancelled.body).toMatchObject({ status: "cancelled", reason: "cancelled_by_request" });
	expect(await stockOf(productId)).toBe(10);
	expect((await paymentsOf(token))[0].status).toBe("refunded");
});

it("answers 402 to a declined card, restores the stock and marks the order payment_failed", async () => {
	const productId = await newProduct(5);
	const { token } = await newCustomer(api);
	for (const [number, reason] of [
		[CARDS.declined, "card_declined"],
		[CARDS.insufficientFunds, "insufficient_funds"],
	]) {
		const res = await order(token, [{ productId, quantity: 3 }], number);
		expect(res.status).toBe(402);
		expect(res.body.type).toBe(reason);
		expect(await stockOf(productId)).toBe(5);
	}
	const orders = (await api.get("/api/orders", { token })).body.rows;
	expect(orders.map((o: { status: string }) => o.status)).toEqual(["payment_failed", "payment_failed"]);
	expect((await paymentsOf(token)).every(p => p.status === "failed")).toBe(true);
});

it("answers 409 when the stock is short, charges nothing and takes nothing", async () => {
	const plenty = await newProduct(10);
	const scarce = await newProduct(1);
	const { token } = await newCustomer(api);
	const res = await order(token, [
		{ productId: plenty, quantity: 2 },
		{ productId: scarce, quantity: 2 },
	]);
	expect(res.status).toBe(409);
	expect(res.body.type).toBe("OUT_OF_STOCK");
	expect(await stockOf(plenty)).toBe(10);
	expect(await stockOf(scarce)).toBe(1);
	expect(await paymentsOf(token)).toEqual([]);
	const [stored] = (await api.get("/api/orders", { token })).body.rows;
	expect(stored).toMatchObject({ status: "cancelled", reason: "out_of_stock" });
});

it("answers 422 to a bad card and stores nothing", async () => {
	const productId = await newProduct(5);
	const { token } = await newCustomer(api);
	const res = await api.post(
		"/api/orders",
		{ items: [{ productId, quantity: 1 }], payment: { method: "card", card: { number: "4242424242424241", expMonth: 13, expYear: 2020, cvc: "1" } } },
		{ token },
	);
	expect(res.status).toBe(422);
	const fields = (res.body.data as { field: string }[]).map(d => d.field);
	expect(fields).toEqual(expect.arrayContaining(["payment.card.number"]));
	expect((await api.get("/api/orders", { token })).body.total).toBe(0);
	expect(await paymentsOf(token)).toEqual([]);
	expect(await stockOf(productId)).toBe(5);
});

it("answers 422 to an unknown product or a bad quantity, and takes prices only from the catalog", async () => {
	const productId = await newProduct(5, 999);
	const { token } = await newCustomer(api);
	expect((await order(token, [{ productId: "no-such-product", quantity: 1 }])).status).toBe(422);
	expect((await order(token, [{ productId, quantity: 0 }])).status).toBe(422);
	expect((await order(token, [])).status).toBe(422);

	const res = await api.post("/api/orders", { items: [{ productId, quantity: 1, unitPrice: 1 }], total: 1, payment: card(CARDS.ok) }, { token });
	expect(res.status).toBe(201);
	expect(res.body.total).toBe(999);
});

it("gives one order and one charge for one Idempotency-Key, in sequence and in parallel", async () => {
	const productId = await newProduct(20);
	const { token } = await newCustomer(api);

	const first = await order(token, [{ productId, quantity: 1 }], CARDS.ok, "key-sequence");
	const again = await order(token, [{ productId, quantity: 1 }], CARDS.ok, "key-sequence");
	expect(first.status).toBe(201);
	expect(again.status).toBe(200);
	expect(again.headers.get("idempotent-replayed")).toBe("true");
	expect(again.body.id).toBe(first.body.id);

	const parallel = await Promise.all(Array.from({ length: 5 }, () => order(token, [{ productId, quantity: 2 }], CARDS.ok, "key-parallel")));
	expect(new Set(parallel.map(r => r.body.id)).size).toBe(1);
	expect(parallel.filter(r => r.status === 201)).toHaveLength(1);
	expect(parallel.every(r => r.body.status === "paid")).toBe(true);

	expect(await paymentsOf(token)).toHaveLength(2);
	expect(await stockOf(productId)).toBe(20 - 1 - 2);

	const reused = await order(token, [{ productId, quantity: 5 }], CARDS.ok, "key-sequence");
	expect(reused.status).toBe(409);
	expect(reused.body.type).toBe("IDEMPOTENCY_KEY_REUSED");

	const otherUser = await newCustomer(api);
	const sameKeyOtherUser = await order(otherUser.token, [{ productId, quantity: 1 }], CARDS.ok, "key-sequence");
	expect(sameKeyOtherUser.status).toBe(201);
	expect(sameKeyOtherUser.body.id).not.toBe(first.body.id);
});

it("cancels a paid order and restocks when an admin refunds its payment", async () => {
	const productId = await newProduct(5);
	const { token } = await newCustomer(api);
	const placed = await order(token, [{ productId, quantity: 2 }]);
	expect((await api.post(`/api/payments/${placed.body.paymentId}/refund`, undefined, { token: admin })).status).toBe(200);

	const cancelled = await waitFor(async () => {
		const res = await api.get(`/api/orders/${placed.body.id}`, { token });
		return res.body.status === "cancelled" ? res.body : undefined;
	}, "the order to be cancelled");
	expect(cancelled.reason).toBe("refunded");
	expect(await stockOf(productId)).toBe(5);
});

it("hides one customer's orders and payments from another", async () => {
	const productId = await newProduct(5);
	const owner = await newCustomer(api);
	const stranger = await newCustomer(api);
	const placed = await order(owner.token, [{ productId, quantity: 1 }]);
	const [payment] = await paymentsOf(owner.token);

	expect((await api.get(`/api/orders/${placed.body.id}`, { token: stranger.token })).status).toBe(404);
	expect((await api.post(`/api/orders/${placed.body.id}/cancel`, undefined, { token: stranger.token })).status).toBe(404);
	expect((await api.get(`/api/payments/${payment.id}`, { token: stranger.token })).status).toBe(404);
	expect((await api.get("/api/orders", { token: stranger.token })).body.total).toBe(0);
	expect((await api.get(`/api/orders/${placed.body.id}`, { token: admin })).status).toBe(200);
	expect((await api.get(`/api/orders/${placed.body.id}`)).status).toBe(401);
});

it("allows only the moves of the state machine, each other move a 409", async () => {
	const productId = await newProduct(10);
	const { token } = await newCustomer(api);
	const id = (await order(token, [{ productId, quantity: 1 }])).body.id;
	const setStatus = (status: string, as = admin) => api.patch(`/api/orders/${id}/status`, { status }, { token: as });

	expect((await setStatus("shipped", token)).status).toBe(403);
	expect((await setStatus("delivered")).status).toBe(409);
	expect((await setStatus("shipped")).status).toBe(200);
	expect((await setStatus("shipped")).status).toBe(409);
	expect((await api.post(`/api/orders/${id}/cancel`, undefined, { token })).status).toBe(409);
	expect((await setStatus("delivered")).body.status).toBe("delivered");
	expect((await setStatus("shipped")).status).toBe(409);
	expect((await setStatus("returned")).status).toBe(422);

	const failed = (await order(token, [{ productId, quantity: 1 }], CARDS.declined)).body.data.orderId;
	expect((await api.patch(`/api/orders/${failed}/status`, { status: "shipped" }, { token: admin })).status).toBe(409);
	expect((await api.post(`/api/orders/${failed}/cancel`, undefined, { token })).status).toBe(409);

	const cancelledId = (await order(token, [{ productId, quantity: 1 }])).body.id;
	expect((await api.post(`/api/orders/${cancelledId}/cancel`, undefined, { token })).status).toBe(200);
	expect((await api.post(`/api/orders/${cancelledId}/cancel`, undefined, { token })).status).toBe(409);
});

it("sells exactly the stock to 50 parallel orders: 10 succeed, stock ends at 0, every unit accounted for", async () => {
	const initial = 10;
	const productId = await newProduct(initial);
	const buyers = await Promise.all(Array.from({ length: 5 }, () => newCustomer(api)));
	const results = await Promise.all(Array.from({ length: 50 }, (_, i) => order(buyers[i % 5].token, [{ productId, quantity: 1 }])));

	const statuses = results.map(r => r.status);
	expect(statuses.filter(s => s === 201)).toHaveLength(10);
	expect(statuses.filter(s => s === 409)).toHaveLength(40);
	expect(await stockOf(productId)).toBe(0);

	const all = (await api.get("/api/orders?pageSize=100&status=paid", { token: admin })).body.rows as { items: { productId: string; quantity: number }[] }[];
	const held = all
		.flatMap(o => o.items)
		.filter(i => i.productId === productId)
		.reduce((sum, i) => sum + i.quantity, 0);
	expect(held + (await stockOf(productId))).toBe(initial);
});
