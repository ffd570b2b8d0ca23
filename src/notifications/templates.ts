/**
 * The text of each notification: pure functions from an event's data to
 * { kind, title, body }, and from a message to the email that carries it. They read only
 * the fields they name, so nothing else an event may carry (a token, a card) can reach a
 * message. Money is shown with formatMoney; amounts stay integers of minor units until then.
 */
import { formatMoney } from "../money";
import type { Message } from "./notification";

export type UserRegisteredData = { userId: string; email: string; name: string };

export type OrderEventItem = { productId: string; name: string; unitPrice: number; quantity: number; lineTotal: number };

export type OrderEventData = {
	orderId: string;
	userId: string;
	status: string;
	total: number;
	currency: string;
	items: OrderEventItem[];
	reason: string | null;
	paymentId: string | null;
};

export type PaymentRefundedData = { paymentId: string; orderId: string; userId: string; amount: number; currency: string };

export type PromotionCreatedData = { promotionId: string; title: string; message: string };

/** The order events that notify the order's owner. */
export type OrderNoticeType = "order.paid" | "order.payment_failed" | "order.cancelled" | "order.shipped" | "order.delivered";

/** Items shown by name in a message; the rest are counted. */
const ITEMS_SHOWN = 3;

const DECLINE_REASONS: Record<string, string> = {
	card_declined: "the card was declined",
	insufficient_funds: "the card has insufficient funds",
	expired_card: "the card has expired",
	incorrect_cvc: "the card's security code was incorrect",
	processing_error: "the card could not be charged",
};

const CANCEL_REASONS: Record<string, string> = {
	cancelled_by_request: "as you asked",
	out_of_stock: "because an item was out of stock",
	reservation_failed: "because its items could not be reserved",
	payment_unavailable: "because the payment could not be processed",
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

const ORDER_TEMPLATES: Record<OrderNoticeType, (order: OrderEventData) => Message> = {
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
			`${DECLINE_REASONS[order.reason ?? ""] ?? "the card was declined"}. Nothing was charged; you can place the order again with another card.`,
	}),
	"order.cancelled": order => ({
		kind: "order_cancelled",
		title: "Your order was cancelled",
		body:
			`Order ${order.orderId} (${orderTotal(order)}) was cancelled ${CANCEL_REASONS[order.reason ?? ""] ?? ""}`.trimEnd() +
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

export function orderMessage(type: OrderNoticeType, order: OrderEventData): Message {
	return ORDER_TEMPLATES[type](order);
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
