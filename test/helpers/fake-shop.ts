/**
 * The order flows' ports in memory: a catalog with stock and holds, an order store whose
 * transitions record their events (as the outbox does), and payments that can be refunded.
 * `failNext(k)` makes the k-th port call from now on fail as an unavailable service would,
 * to try every crash point of a flow.
 */
import { Errors } from "moleculer";
import { ConflictError } from "../../src/errors";
import type { Order } from "../../src/orders/order";
import { canMove } from "../../src/orders/order-state";
import type { CatalogProduct, OrderPorts, PaymentOutcome } from "../../src/orders/ports";

export type FakeShop = ReturnType<typeof fakeShop>;

export function fakeShop(options: { stock?: Record<string, number>; charge?: () => Promise<{ id: string }> } = {}) {
	const stock: Record<string, number> = { mug: 10, pen: 1, ...options.stock };
	const holds = new Set<string>();
	const orders = new Map<string, Order>();
	const events: { type: string; orderId: string }[] = [];
	const payments = new Map<string, NonNullable<PaymentOutcome>>();
	const refunds: string[] = [];
	let clock = Date.parse("2026-03-15T12:00:00Z");
	let calls = 0;
	let failAt = Infinity;
	const products: CatalogProduct[] = Object.keys(stock).map(id => ({ id, name: id, price: 500, currency: "USD", active: true }));

	/** Counts a port call; throws the way an unavailable service does when it is the one chosen to fail. */
	const step = async () => {
		calls += 1;
		if (calls === failAt) throw new Errors.ServiceNotAvailableError({ action: "injected", nodeID: "n1" });
	};

	const ports: OrderPorts = {
		cardProblems: () => [],
		products: async ids => products.filter(p => ids.includes(p.id)),
		reserve: async (orderId, productId, quantity) => {
			await step();
			if (holds.has(`${orderId}:${productId}`)) return;
			if (stock[productId] < quantity) throw new ConflictError("Not enough stock", "OUT_OF_STOCK", { productId });
			stock[productId] -= quantity;
			holds.add(`${orderId}:${productId}`);
		},
		release: async (orderId, productId, quantity) => {
			await step();
			if (holds.delete(`${orderId}:${productId}`)) stock[productId] += quantity;
		},
		charge:
			options.charge ??
			(async payment => {
				const id = `pay-${payment.orderId}`;
				payments.set(payment.orderId, { id, status: "succeeded" });
				return { id };
			}),
		refundOrder: async orderId => {
			await step();
			const payment = payments.get(orderId);
			if (payment?.status === "succeeded") {
				payment.status = "refunded";
				refunds.push(orderId);
			}
		},
		paymentOf: async orderId => {
			await step();
			return payments.get(orderId) ?? null;
		},
		insertOrder: async order => {
			const saved = { ...order, _id: `o${orders.size + 1}` } as Order;
			orders.set(saved._id, saved);
			events.push({ type: "order.created", orderId: saved._id });
			return { ...saved };
		},
		findByScope: async scope => [...orders.values()].find(o => o.idempotencyScope === scope) ?? null,
		findById: async id => {
			const order = orders.get(id);
			return order ? { ...order } : null;
		},
		transition: async (order, to, changes = {}, event) => {
			await step();
			const stored = orders.get(order._id)!;
			if (stored.status !== order.status || !canMove(stored.status, to)) return null;
			Object.assign(stored, changes, { status: to });
			if (event) events.push({ type: event, orderId: stored._id });
			return { ...stored };
		},
		clearReleaseOwed: async order => {
			await step();
			const stored = orders.get(order._id)!;
			if (stored.releaseOwedAfter !== order.releaseOwedAfter) return false;
			delete stored.releaseOwedAfter;
			return true;
		},
		now: () => new Date(clock),
		releaseGraceMs: 10_000,
		warn: () => undefined,
		sleep: async () => undefined,
	};

	return {
		ports,
		stock,
		holds,
		orders,
		events,
		payments,
		refunds,
		/** The k-th port call from now on fails (1 = the next one). */
		failNext(k: number) {
			failAt = calls + k;
		},
		heal() {
			failAt = Infinity;
		},
		advance(ms: number) {
			clock += ms;
		},
		order(id = "o1"): Order {
			return { ...orders.get(id)! };
		},
	};
}
