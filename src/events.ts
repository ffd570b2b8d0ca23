/**
 * The business events: one typed catalog (event type -> payload) that producers, the
 * durable-events mixin, consumers and the notification templates all import, so that a
 * payload or a reason the consumers do not know fails to compile.
 *
 * Every event travels as `{ id, type, at, data, requestId?, trace? }`: `id` is unique
 * (consumers drop a second delivery of it; JetStream stores a repeated publish once),
 * `requestId` names the request that caused it, so that consumers log with it, and
 * `trace` lets the consumer's span continue the trace of that request.
 */
import { randomFillSync } from "node:crypto";
import { currentRequestID, currentTraceParent } from "./request-context";

/** Why a card was declined (the 402's `type`, payment.failed's and order.payment_failed's `reason`). */
export type DeclineReason = "card_declined" | "insufficient_funds" | "expired_card" | "incorrect_cvc" | "processing_error";

/** Why an order was cancelled. */
export type CancelReason =
	/** its owner (or an admin) cancelled it */
	| "cancelled_by_request"
	/** an admin refunded its payment */
	| "refunded"
	| "out_of_stock"
	/** the catalog could not be reached to take the stock */
	| "reservation_failed"
	/** its saga died and no payment went through */
	| "abandoned";

/** Why a payment was refunded: an admin asked, or its order was cancelled. */
export type RefundReason = "refund_requested" | "order_cancelled";

export type OrderEventItem = { productId: string; name: string; unitPrice: number; quantity: number; lineTotal: number };

export type OrderEventData = {
	orderId: string;
	userId: string;
	status: string;
	total: number;
	currency: string;
	items: OrderEventItem[];
	reason: CancelReason | DeclineReason | null;
	paymentId: string | null;
};

export type PaymentEventData = {
	paymentId: string;
	orderId: string;
	userId: string;
	/** Minor units: what was charged, or refunded for payment.refunded. */
	amount: number;
	currency: string;
};

export type ProductEventData = {
	productId: string;
	name: string;
	price: number;
	currency: string;
	category: string;
	stock: number;
	active: boolean;
	changed?: string[];
};

/** Event type -> payload: the single definition of every business event. */
export interface EventPayloads {
	"user.registered": { userId: string; email: string; name: string };
	"order.created": OrderEventData;
	"order.paid": OrderEventData;
	"order.payment_failed": OrderEventData & { reason: DeclineReason };
	"order.cancelled": OrderEventData & { reason: CancelReason };
	"order.shipped": OrderEventData;
	"order.delivered": OrderEventData;
	"payment.succeeded": PaymentEventData;
	"payment.failed": PaymentEventData & { reason: DeclineReason };
	"payment.refunded": PaymentEventData & { reason: RefundReason };
	"product.created": ProductEventData;
	"product.updated": ProductEventData;
	"product.removed": ProductEventData;
	"inventory.low": { productId: string; name: string; stock: number };
	"promotion.created": { promotionId: string; title: string; message: string };
}

export type EventType = keyof EventPayloads;

export const EVENT_TYPES = [
	"user.registered",
	"order.created",
	"order.paid",
	"order.payment_failed",
	"order.cancelled",
	"order.shipped",
	"order.delivered",
	"payment.succeeded",
	"payment.failed",
	"payment.refunded",
	"product.created",
	"product.updated",
	"product.removed",
	"inventory.low",
	"promotion.created",
] as const satisfies readonly EventType[];

/** Where a trace continues: the trace, and the span of the request that caused the event. */
export type TraceParent = { traceId: string; parentId: string };

/** A business event as it travels. Without a type argument: any event, its data unknown in shape. */
export type BusinessEvent<T = Record<string, unknown>> = { id: string; type: string; at: string; data: T; requestId?: string; trace?: TraceParent };

/** An event of a known type, its data typed from the catalog. */
export type EventOf<K extends EventType> = BusinessEvent<EventPayloads[K]> & { type: K };

/** Random bytes for event ids, drawn 4 KB at a time as node:crypto does for randomUUID: one call to the system's generator for 256 ids. */
const idBytes = Buffer.alloc(4096);
let idBytesUsed = idBytes.length;

/**
 * A new event's id: a UUID of version 7 (RFC 9562), whose first 48 bits are the time in
 * milliseconds and the other 74 random. Ids of events from the same moment sort together,
 * so the stores that keep events by id (the analytics inbox and log, the notifications'
 * keys) add each new one at the end of their index, not on a random page of it.
 */
export function newEventId(now = Date.now()): string {
	if (idBytesUsed + 16 > idBytes.length) {
		randomFillSync(idBytes);
		idBytesUsed = 0;
	}
	const bytes = idBytes.subarray(idBytesUsed, (idBytesUsed += 16));
	bytes.writeUIntBE(now, 0, 6);
	bytes[6] = 0x70 | (bytes[6] & 0x0f);
	bytes[8] = 0x80 | (bytes[8] & 0x3f);
	const hex = bytes.toString("hex");
	return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A new event of a catalogued type, carrying the request id and the trace of the request being handled. */
export function newEvent<K extends EventType>(type: K, data: EventPayloads[K]): EventOf<K> {
	const requestId = currentRequestID();
	const trace = currentTraceParent();
	return { id: newEventId(), type, at: new Date().toISOString(), data, ...(requestId ? { requestId } : {}), ...(trace ? { trace } : {}) };
}

/** An event of any type (tests and tools that send events the catalog does not list). */
export function businessEvent<T>(type: string, data: T): BusinessEvent<T> {
	return { id: newEventId(), type, at: new Date().toISOString(), data };
}
