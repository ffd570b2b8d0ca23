/** The order saga against fake ports: each failure undoes exactly what was done, and nothing else. */
import { Errors } from "moleculer";
import { NotFoundError, PaymentDeclinedError } from "../../src/errors";
import { placeOrder, type PlaceOrderRequest } from "../../src/orders/place-order";
import type { AuthUser } from "../../src/types";
import { testCard } from "../helpers/fixtures";
import { fakeShop } from "../helpers/fake-shop";

const user: AuthUser = { id: "u1", email: "u1@shop.test", name: "U", role: "customer" };
const card = testCard();
const request = (items: PlaceOrderRequest["items"]): PlaceOrderRequest => ({ items, payment: { method: "card", card } });
const types = (shop: ReturnType<typeof fakeShop>) => shop.events.map(e => e.type);

it("takes the stock, charges, and marks the order paid", async () => {
	const shop = fakeShop();
	const { order } = await placeOrder(shop.ports, user, request([{ productId: "mug", quantity: 2 }]));
	expect(order).toMatchObject({ status: "paid", total: 1000, paymentId: "pay-o1" });
	expect(shop.stock.mug).toBe(8);
	expect(types(shop)).toEqual(["order.created", "order.paid"]);
});

it("gives back every line already taken when a later line is out of stock", async () => {
	const shop = fakeShop();
	await expect(
		placeOrder(
			shop.ports,
			user,
			request([
				{ productId: "mug", quantity: 3 },
				{ productId: "pen", quantity: 2 },
			]),
		),
	).rejects.toMatchObject({
		code: 409,
		type: "OUT_OF_STOCK",
	});
	expect(shop.stock).toMatchObject({ mug: 10, pen: 1 });
	expect(shop.holds.size).toBe(0);
	expect(shop.order()).toMatchObject({ status: "cancelled", reason: "out_of_stock", releaseOwedAfter: expect.any(String) });
	expect(types(shop)).toEqual(["order.created", "order.cancelled"]);
});

it("treats a product that went away as out of stock, but a catalog that does not answer as a failure to retry", async () => {
	const gone = fakeShop();
	gone.ports.reserve = async () => Promise.reject(new NotFoundError("Product", "mug"));
	await expect(placeOrder(gone.ports, user, request([{ productId: "mug", quantity: 1 }]))).rejects.toMatchObject({ type: "OUT_OF_STOCK" });

	const down = fakeShop();
	down.ports.reserve = async () => Promise.reject(new Errors.ServiceNotAvailableError({ action: "catalog.reserve" }));
	await expect(placeOrder(down.ports, user, request([{ productId: "mug", quantity: 1 }]))).rejects.toMatchObject({ type: "SERVICE_NOT_AVAILABLE" });
	expect([...down.orders.values()][0]).toMatchObject({ status: "cancelled", reason: "reservation_failed" });
});

it("gives the stock back and marks the order payment_failed when the card is declined", async () => {
	const shop = fakeShop({ charge: () => Promise.reject(new PaymentDeclinedError("Declined", "card_declined")) });
	await expect(placeOrder(shop.ports, user, request([{ productId: "mug", quantity: 2 }]))).rejects.toMatchObject({ code: 402 });
	expect(shop.stock.mug).toBe(10);
	expect([...shop.orders.values()][0]).toMatchObject({ status: "payment_failed", reason: "card_declined" });
	expect(shop.refunds).toEqual([]);
});

it("keeps the order pending with its stock when the charge's outcome is unknown, for the recovery to settle", async () => {
	const shop = fakeShop({ charge: () => Promise.reject(new Errors.RequestTimeoutError({ action: "payments.charge", nodeID: "n1" })) });
	await expect(placeOrder(shop.ports, user, request([{ productId: "mug", quantity: 2 }]))).rejects.toMatchObject({ code: 503, type: "PAYMENT_PENDING" });
	expect([...shop.orders.values()][0].status).toBe("pending");
	expect(shop.stock.mug).toBe(8);
	expect(shop.refunds).toEqual([]);
});

it("refuses, before storing anything, more of one product than one order may take", async () => {
	const shop = fakeShop({ stock: { mug: 5000 } });
	await expect(
		placeOrder(
			shop.ports,
			user,
			request([
				{ productId: "mug", quantity: 600 },
				{ productId: "mug", quantity: 600 },
			]),
		),
	).rejects.toMatchObject({ code: 422 });
	expect(shop.orders.size).toBe(0);
});

it("answers a replay of the same key with the same order, and a different request under it with 409", async () => {
	const shop = fakeShop();
	const first = await placeOrder(shop.ports, user, request([{ productId: "mug", quantity: 1 }]), "k1");
	const again = await placeOrder(shop.ports, user, request([{ productId: "mug", quantity: 1 }]), "k1");
	expect(again).toEqual({ order: first.order, replayed: true });
	expect(shop.stock.mug).toBe(9);
	await expect(placeOrder(shop.ports, user, request([{ productId: "mug", quantity: 2 }]), "k1")).rejects.toMatchObject({ type: "IDEMPOTENCY_KEY_REUSED" });
});
