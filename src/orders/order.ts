/** The order as stored and as shown. */
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
	reason: string | null;
	history: { status: OrderStatus; at: string }[];
	createdAt: string;
	updatedAt: string;
};

export type OrderView = {
	id: string;
	userId: string;
	status: OrderStatus;
	items: OrderItem[];
	total: number;
	currency: string;
	paymentId: string | null;
	reason: string | null;
	history: { status: OrderStatus; at: string }[];
	createdAt: string;
	updatedAt: string;
};

export function orderView(order: Order): OrderView {
	const { _id, userId, status, items, total, currency, paymentId, reason, history, createdAt, updatedAt } = order;
	return { id: _id, userId, status, items, total, currency, paymentId, reason, history, createdAt, updatedAt };
}
