/**
 * A payment as stored, as shown, and as told in events; the ports the charge and refund
 * flows work through. A payment keeps the card's brand, last four digits and expiry:
 * never its number or CVC.
 */
import type { OutboxFields } from "../durable-events/outbox";
import { PaymentDeclinedError } from "../errors";
import type { DeclineReason, EventOf, EventPayloads, PaymentEventData, RefundReason } from "../events";
import type { CardSummary } from "./cards";
import { DECLINE_MESSAGES } from "./declines";
import type { PaymentProvider } from "./provider";

/** processing -> succeeded | failed; succeeded -> refunding -> refunded (the claim first, then the provider). */
export const PAYMENT_STATUSES = ["processing", "succeeded", "failed", "refunding", "refunded"] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** The stored payment; one per order (unique index on orderId). */
export type Payment = {
	_id: string;
	orderId: string;
	userId: string;
	/** Minor units. */
	amount: number;
	currency: string;
	status: PaymentStatus;
	/** The provider that charged, by name. */
	provider: string;
	/** The provider's id of the charge, once it succeeded. */
	providerRef?: string;
	/** The provider's id of the refund, once refunded. */
	refundRef?: string;
	card: CardSummary;
	failureReason?: DeclineReason;
	/** Why it is being refunded, from the claim on. */
	refundReason?: RefundReason;
	/** Minor units; never more than `amount`. */
	refundedAmount: number;
	createdAt: string;
	updatedAt: string;
} & OutboxFields;

export type NewPayment = Omit<Payment, "_id">;

/** What callers see of a payment. */
export type PaymentView = {
	id: string;
	orderId: string;
	userId: string;
	amount: number;
	currency: string;
	status: PaymentStatus;
	card: { brand: string; last4: string };
	failureReason?: DeclineReason;
	refundedAmount: number;
	createdAt: string;
	updatedAt: string;
};

export function publicPayment(payment: Payment): PaymentView {
	return {
		id: payment._id,
		orderId: payment.orderId,
		userId: payment.userId,
		amount: payment.amount,
		currency: payment.currency,
		status: payment.status,
		card: { brand: payment.card.brand, last4: payment.card.last4 },
		...(payment.failureReason ? { failureReason: payment.failureReason } : {}),
		refundedAmount: payment.refundedAmount,
		createdAt: payment.createdAt,
		updatedAt: payment.updatedAt,
	};
}

export type PaymentEventType = "payment.succeeded" | "payment.failed" | "payment.refunded";

function eventData(payment: Payment, amount: number): PaymentEventData {
	return { paymentId: payment._id, orderId: payment.orderId, userId: payment.userId, amount, currency: payment.currency };
}

/** The payment.* event of a payment as it is after the change the event reports. */
export function paymentEvent(payment: Payment, type: "payment.succeeded"): EventOf<"payment.succeeded">["data"];
export function paymentEvent(payment: Payment, type: "payment.failed"): EventOf<"payment.failed">["data"];
export function paymentEvent(payment: Payment, type: "payment.refunded"): EventOf<"payment.refunded">["data"];
export function paymentEvent(payment: Payment, type: PaymentEventType): EventPayloads[PaymentEventType] {
	if (type === "payment.failed") return { ...eventData(payment, payment.amount), reason: payment.failureReason ?? "card_declined" };
	if (type === "payment.refunded") return { ...eventData(payment, payment.refundedAmount), reason: payment.refundReason ?? "refund_requested" };
	return eventData(payment, payment.amount);
}

/** The 402 for a failed payment: the same error the first time and on every repeat. */
export function declinedError(payment: Payment): PaymentDeclinedError {
	const reason = payment.failureReason ?? "card_declined";
	return new PaymentDeclinedError(DECLINE_MESSAGES[reason], reason, {
		paymentId: payment._id,
		orderId: payment.orderId,
	});
}

/** An error's name and code, without its message, which a provider may have written the card into. */
export function errorKind(err: unknown): string {
	const e = err as { name?: unknown; code?: unknown } | null;
	return [e?.name, e?.code].filter(part => part !== undefined && part !== null).join(" ") || "unknown error";
}

/** Where payments are kept; the service implements it over the db mixin, unit tests in memory. */
export interface PaymentStore {
	/** Stores a new payment, or answers null when the order has one already (unique orderId). */
	insertIfNew(payment: NewPayment): Promise<Payment | null>;
	byId(id: string): Promise<Payment | null>;
	byOrder(orderId: string): Promise<Payment | null>;
	/**
	 * One atomic conditional update: applies `changes` only if the payment is still in the
	 * status it has in `payment`, recording `event` (about the payment as it is after) in
	 * its outbox in the same write. Answers the updated payment, or null if its status changed.
	 */
	transition(payment: Payment, changes: Partial<NewPayment>, event?: PaymentEventType): Promise<Payment | null>;
}

/** What the charge and refund flows need from the outside. */
export type PaymentPorts = {
	store: PaymentStore;
	provider: PaymentProvider;
	/** How long a charge may wait for the provider before its outcome counts as not known yet. */
	providerTimeoutMs: number;
	/** How old a charge the provider says it never got must be before it counts as failed. */
	unknownAfterMs: number;
	now(): Date;
	/** For trouble an operator must look at; never given card details. */
	warn(message: string): void;
};
