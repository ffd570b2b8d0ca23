/**
 * The order flows fail at every step in turn (a port that throws as an unavailable service
 * does); then the sweeper's flows run, as they do on every instance. However the failure
 * fell, the shop ends consistent: stock, payments, order state and the events owed agree.
 */
import { placeOrder, type PlaceOrderRequest } from "../../src/orders/place-order";
import { finishCancel, releaseOwedStock, settleAbandoned } from "../../src/orders/settle-order";
import type { AuthUser } from "../../src/types";
import { testCard } from "../helpers/fixtures";
import { fakeShop, type FakeShop } from "../helpers/fake-shop";

const user: AuthUser = { id: "u1", email: "u1@shop.test", name: "U", role: "customer" };
const card = testCard();
const order2 = (): PlaceOrderRequest => ({
	items: [
		{ productId: "mug", quantity: 2 },
		{ productId: "pen", quantity: 1 },
	],
	payment: { method: "card", card },
});
const INITIAL = { mug: 10, pen: 1 };

/** What the sweeper does on every instance: settle abandoned orders, finish cancels, give owed stock back. */
async function sweep(shop: FakeShop) {
	shop.heal();
	shop.advance(60_000);
	for (const order of [...shop.orders.values()]) {
		if (order.status === "pending") await settleAbandoned(shop.ports, { ...order });
	}
	for (const order of [...shop.orders.values()]) {
		if (order.status === "cancelling") await finishCancel(shop.ports, { ...order });
	}
	shop.advance(60_000);
	for (const order of [...shop.orders.values()]) await releaseOwedStock(shop.ports, { ...order });
}

/** The invariants of docs/architecture.md, over everything the fake shop holds. */
function expectConsistent(shop: FakeShop) {
	for (const [productId, initial] of Object.entries(INITIAL)) {
		const held = [...shop.orders.values()]
			.filter(order => ["paid", "shipped", "delivered"].includes(order.status))
			.flatMap(order => order.items)
			.filter(item => item.productId === productId)
			.reduce((sum, item) => sum + item.quantity, 0);
		expect({ productId, total: shop.stock[productId] + held }).toEqual({ productId, total: initial });
	}
	for (const order of shop.orders.values()) {
		const payment = shop.payments.get(order._id);
		const told = shop.events.filter(e => e.orderId === order._id).map(e => e.type);
		expect(order.releaseOwedAfter ?? null).toBeNull();
		if (order.status === "paid") {
			expect(payment?.status).toBe("succeeded");
			expect(told).toEqual(["order.created", "order.paid"]);
		} else {
			expect(["cancelled", "payment_failed"]).toContain(order.status);
			expect(payment?.status === "succeeded").toBe(false);
			expect(told.filter(type => type === "order.cancelled" || type === "order.payment_failed")).toHaveLength(1);
		}
	}
}

const STEPS = 8;

describe.each(Array.from({ length: STEPS }, (_, i) => i + 1))("with the port call %i failing", k => {
	it("placing an order ends paid or cancelled, with stock and events in agreement", async () => {
		const shop = fakeShop({ stock: INITIAL });
		shop.failNext(k);
		await placeOrder(shop.ports, user, order2()).catch(() => undefined);
		await sweep(shop);
		expectConsistent(shop);
	});

	it("cancelling a paid order ends cancelled, refunded once and restocked", async () => {
		const shop = fakeShop({ stock: INITIAL });
		const { order } = await placeOrder(shop.ports, user, order2());
		shop.failNext(k);
		const claimed = await shop.ports.transition(order, "cancelling", { reason: "cancelled_by_request" }).catch(() => null);
		if (claimed) await finishCancel(shop.ports, claimed).catch(() => undefined);
		await sweep(shop);
		const now = shop.order(order._id);
		if (claimed) {
			expect(now.status).toBe("cancelled");
			expect(shop.refunds).toEqual([order._id]);
		} else {
			expect(now.status).toBe("paid");
		}
		expectConsistent(shop);
	});
});

it("a reservation that applies after its order was given up is given back by the last release", async () => {
	const shop = fakeShop({ stock: INITIAL });
	// The first reserve "times out" in the saga but applies in the catalog a moment later.
	let late: (() => Promise<void>) | undefined;
	const reserve = shop.ports.reserve;
	shop.ports.reserve = async (orderId, productId, quantity) => {
		late = () => reserve(orderId, productId, quantity);
		throw Object.assign(new Error("timed out"), { code: 504, retryable: true });
	};
	await expect(placeOrder(shop.ports, user, order2())).rejects.toMatchObject({ code: 504 });
	expect(shop.order()).toMatchObject({ status: "cancelled", reason: "reservation_failed" });
	await late!();
	expect(shop.stock.mug).toBe(8);
	await sweep(shop);
	expect(shop.stock.mug).toBe(10);
	expectConsistent(shop);
});
