/** The order as stored and as shown, and the data of its events. */
import type { OutboxFields } from "../durable-events/outbox";
import type { CancelReason, DeclineReason, OrderEventData } from "../events";
import type { OrderStatus } from "./order-state";

export type OrderItem = { productId: string; name: string; unitPrice: number; quantity: number; lineTotal: number };

export type Order = {
	_id: string;
	userId: string;
	status: OrderStatus;
	items: OrderItem[];
	total: number;
	currency: string;
	/** userId + ":" + Idempotency-Key (a random key when the client sent none); unique. */
	idempotencyScope: string;
	/** What the client asked for, to tell a replay from a different request under the same key. */
	requestFingerprint: string;
	paymentId: string | null;
	reason: CancelReason | DeclineReason | null;
	/**
	 * Set when the order failed or was abandoned while it may hold stock: a sweeper gives
	 * every line back once more after this time (when no reservation of the saga can still
	 * be running) and clears it. Absent: nothing owed (so that its sparse index holds only
	 * the orders that owe stock).
	 */
	releaseOwedAfter?: string;
	history: { status: OrderStatus; at: string }[];
	createdAt: string;
	updatedAt: string;
} & OutboxFields;

export type OrderView = {
	id: string;
	userId: string;
	status: OrderStatus;
	items: OrderItem[];
	total: number;
	currency: string;
	paymentId: string | null;
	reason: CancelReason | DeclineReason | null;
	history: { status: OrderStatus; at: string }[];
	createdAt: string;
	updatedAt: string;
};

export function orderView(order: Order): OrderView {
	const { _id, userId, status, items, total, currency, paymentId, reason, history, createdAt, updatedAt } = order;
	return { id: _id, userId, status, items, total, currency, paymentId, reason, history, createdAt, updatedAt };
}

/** The data of an order.* event: the order as it is after the change the event reports. */
export function orderEventData(order: Order): OrderEventData {
	const { _id: orderId, userId, status, total, currency, items, reason, paymentId } = order;
	return { orderId, userId, status, total, currency, items, reason, paymentId };
}
