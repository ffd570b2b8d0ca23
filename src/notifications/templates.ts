/**
 * The text of each notification: pure functions from an event's data to
 * { kind, title, body }, and from a message to the email that carries it. They read only
 * the fields they name, so nothing else an event may carry (a token, a card) can reach a
 * message. Money is shown with formatMoney; amounts stay integers of minor units until then.
 */
import type { CancelReason, EventPayloads, OrderEventData, OrderEventItem } from "../events";
import { declineClause } from "../payments/declines";
import { formatMoney } from "../money";
import type { Message } from "./notification";

/** The payloads the templates read, from the one event catalog (src/events.ts). */
export type UserRegisteredData = EventPayloads["user.registered"];
export type { OrderEventData, OrderEventItem };
export type PaymentRefundedData = EventPayloads["payment.refunded"];
export type PromotionCreatedData = EventPayloads["promotion.created"];

/** The order events that notify the order's owner. */
export type OrderNoticeType = "order.paid" | "order.payment_failed" | "order.cancelled" | "order.shipped" | "order.delivered";

/** Items shown by name in a message; the rest are counted. */
const ITEMS_SHOWN = 3;

/** Every cancel reason has its words: a reason without them does not compile. */
const CANCEL_REASONS: Record<CancelReason, string> = {
	cancelled_by_request: "as you asked",
	out_of_stock: "because an item was out of stock",
	reservation_failed: "because its items could not be reserved",
	refunded: "because its payment was refunded",
	abandoned: "because it could not be completed",
};

/** One line, no control characters: titles become email subjects. */
function oneLine(text: string): string {
	return text.replace(/\s+/g, " ").trim();
}

function orderTotal(order: OrderEventData): string {
	return formatMoney({ amount: order.total, currency: order.currency });
}

/** "2 × Mug, 1 × Tea and 3 more items" */
export function itemsSummary(items: OrderEventItem[]): string {
	const shown = items.slice(0, ITEMS_SHOWN).map(item => `${item.quantity} × ${oneLine(item.name)}`);
	const rest = items.length - shown.length;
	if (rest <= 0) return shown.join(", ");
	return `${shown.join(", ")} and ${rest} more item${rest === 1 ? "" : "s"}`;
}

export function welcomeMessage(user: UserRegisteredData): Message {
	return {
		kind: "welcome",
		title: oneLine(`Welcome to the shop, ${user.name}!`),
		body: `Your account ${user.email} is ready. Browse the catalog and place your first order whenever you like.`,
	};
}

const ORDER_TEMPLATES: { [K in OrderNoticeType]: (order: EventPayloads[K]) => Message } = {
	"order.paid": order => ({
		kind: "order_paid",
		title: "Payment received for your order",
		body: `We received your payment of ${orderTotal(order)} for order ${order.orderId} (${itemsSummary(order.items)}). We will tell you when it ships.`,
	}),
	"order.payment_failed": order => ({
		kind: "payment_failed",
		title: "Your payment did not go through",
		body:
			`The payment of ${orderTotal(order)} for order ${order.orderId} failed: ` +
			`${declineClause(order.reason)}. Nothing was charged; you can place the order again with another card.`,
	}),
	"order.cancelled": order => ({
		kind: "order_cancelled",
		title: "Your order was cancelled",
		body:
			`Order ${order.orderId} (${orderTotal(order)}) was cancelled ${CANCEL_REASONS[order.reason] ?? CANCEL_REASONS.abandoned}` +
			". If you were charged, the money goes back to your card; you will get a notice when the refund is issued.",
	}),
	"order.shipped": order => ({
		kind: "order_shipped",
		title: "Your order is on its way",
		body: `Order ${order.orderId} (${itemsSummary(order.items)}) has shipped.`,
	}),
	"order.delivered": order => ({
		kind: "order_delivered",
		title: "Your order was delivered",
		body: `Order ${order.orderId} (${itemsSummary(order.items)}) was delivered. Enjoy!`,
	}),
};

export function orderMessage<K extends OrderNoticeType>(type: K, order: EventPayloads[K]): Message {
	return (ORDER_TEMPLATES[type] as (order: EventPayloads[K]) => Message)(order);
}

export function refundMessage(refund: PaymentRefundedData): Message {
	const amount = formatMoney({ amount: refund.amount, currency: refund.currency });
	return {
		kind: "refund",
		title: `Your refund of ${amount} is on its way`,
		body: `We refunded ${amount} for order ${refund.orderId} to the card you paid with. It may take a few days to show on your statement.`,
	};
}

export function promotionMessage(promotion: PromotionCreatedData): Message {
	return { kind: "promotion", title: oneLine(promotion.title), body: promotion.message.trim() };
}

export type MailText = { subject: string; text: string };

/** The email that carries a message: the title as subject, the body with a greeting. */
export function mailText(message: Message, recipientName: string): MailText {
	return {
		subject: message.title,
		text: `Hello ${oneLine(recipientName)},\n\n${message.body}\n\nThe Shop\n`,
	};
}
