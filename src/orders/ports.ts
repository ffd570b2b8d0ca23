/**
 * What the order flows (src/orders/place-order.ts, src/orders/settle-order.ts) need from
 * the rest of the cluster and from the store. The orders service implements them over
 * the broker and the db mixin; unit tests implement them in memory, failing at will.
 */
import type { FieldProblem } from "../errors";
import type { DeclineReason, RefundReason } from "../events";
import type { CardInput } from "../payments/cards";
import type { Order } from "./order";
import type { OrderStatus } from "./order-state";

export type OrderEventType = "order.created" | "order.paid" | "order.payment_failed" | "order.cancelled" | "order.shipped" | "order.delivered";

export type CatalogProduct = { id: string; name: string; price: number; currency: string; active: boolean };

/** The order's payment as the flows need it, or null when it has none. */
export type PaymentOutcome = {
	id: string;
	status: "processing" | "succeeded" | "failed" | "refunding" | "refunded";
	failureReason?: DeclineReason;
} | null;

/** The store, and the stock and money calls that settling an order needs. */
export interface SettlePorts {
	/**
	 * Moves the order from its current status to `to` in one conditional update that also
	 * records `event` (about the order as it is after the move) in its outbox. Null when the
	 * order was no longer in that status: someone else moved it.
	 */
	transition(order: Order, to: OrderStatus, changes?: Partial<Order>, event?: OrderEventType): Promise<Order | null>;
	findById(orderId: string): Promise<Order | null>;
	/** Clears `releaseOwedAfter` if it is still the order's; false when it changed meanwhile. */
	clearReleaseOwed(order: Order): Promise<boolean>;
	/** Gives back what the order took of a product; nothing if it took none. Safe to repeat. */
	release(orderId: string, productId: string, quantity: number): Promise<void>;
	/** Refunds the order's payment if it succeeded; resolves once refunded (or nothing to refund), throws while it is not. */
	refundOrder(orderId: string, reason: RefundReason): Promise<void>;
	paymentOf(orderId: string): Promise<PaymentOutcome>;
	now(): Date;
	/** How long after an order failed a reservation of its saga may still apply (the request timeout and then some). */
	releaseGraceMs: number;
	/** For trouble that a sweeper will retry; never given card details. */
	warn(message: string): void;
}

/** What placing an order needs, besides settling. */
export interface OrderPorts extends SettlePorts {
	/** Field problems of a card (fields named as in the request: payment.card.number, ...), checked before anything is stored. */
	cardProblems(card: CardInput): FieldProblem[];
	products(ids: string[]): Promise<CatalogProduct[]>;
	/** Takes the stock of one line for the order; asking twice takes it once. */
	reserve(orderId: string, productId: string, quantity: number): Promise<void>;
	charge(payment: { orderId: string; userId: string; amount: number; currency: string; card: CardInput }): Promise<{ id: string }>;
	/** Stores a new order with order.created in its outbox; a second order with the same idempotencyScope fails with DuplicateOrderError. */
	insertOrder(order: Omit<Order, "_id">): Promise<Order>;
	findByScope(scope: string): Promise<Order | null>;
	/** Waits a little, for a replay to see the first request's outcome. */
	sleep(ms: number): Promise<void>;
}
