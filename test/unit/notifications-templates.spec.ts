/** The text of every notification kind: right kind, amounts formatted, nothing secret. */
import { NOTIFICATION_KINDS } from "../../src/notifications/notification";
import {
	itemsSummary,
	mailText,
	orderMessage,
	promotionMessage,
	refundMessage,
	welcomeMessage,
	type OrderEventData,
	type OrderNoticeType,
} from "../../src/notifications/templates";

const order: OrderEventData = {
	orderId: "ord-123",
	userId: "u1",
	status: "paid",
	total: 123456,
	currency: "USD",
	items: [
		{ productId: "p1", name: "Blue mug", unitPrice: 1250, quantity: 2, lineTotal: 2500 },
		{ productId: "p2", name: "Green tea", unitPrice: 120956, quantity: 1, lineTotal: 120956 },
	],
	reason: null,
	paymentId: "pay-1",
};

const SECRETS = ["4242424242424242", "eyJhbGciOiJIUzI1NiJ9.secret-token", "hunter2-password", "123"];

/** Event data as a careless publisher might send it: with fields no message may show. */
function withSecrets<T extends object>(data: T): T {
	return { ...data, token: SECRETS[1], password: SECRETS[2], card: { number: SECRETS[0], cvc: SECRETS[3] }, cardNumber: SECRETS[0] };
}

function expectNoSecrets(text: string) {
	for (const secret of SECRETS.slice(0, 3)) expect(text).not.toContain(secret);
	expect(text).not.toMatch(/cvc|password|token/i);
}

/** Events come from outside: the templates are tried with data the types would not allow, too. */
const notice = (type: OrderNoticeType, data: object) => orderMessage(type, data as never);
const refundOf = (data: object) => refundMessage({ reason: "order_cancelled", ...data } as never);

describe("order notices", () => {
	const cases: [OrderNoticeType, string][] = [
		["order.paid", "order_paid"],
		["order.payment_failed", "payment_failed"],
		["order.cancelled", "order_cancelled"],
		["order.shipped", "order_shipped"],
		["order.delivered", "order_delivered"],
	];

	it.each(cases)("%s gives a %s notice naming the order", (type, kind) => {
		const message = notice(type, withSecrets(order));
		expect(message.kind).toBe(kind);
		expect(message.title.length).toBeGreaterThan(0);
		expect(message.body).toContain("ord-123");
		expectNoSecrets(message.title + message.body);
	});

	it("shows the total as money, not as minor units", () => {
		const paid = notice("order.paid", order);
		expect(paid.body).toContain("$1,234.56");
		expect(paid.body).not.toContain("123456");
		expect(notice("order.payment_failed", { ...order, total: 999, currency: "EUR" }).body).toContain("€9.99");
		expect(notice("order.cancelled", { ...order, total: 500, currency: "GBP" }).body).toContain("£5.00");
	});

	it("lists the items, and counts those it does not name", () => {
		expect(notice("order.paid", order).body).toContain("2 × Blue mug, 1 × Green tea");
		const many = Array.from({ length: 5 }, (_, i) => ({ ...order.items[0], name: `Item ${i}`, quantity: 1 }));
		expect(itemsSummary(many)).toBe("1 × Item 0, 1 × Item 1, 1 × Item 2 and 2 more items");
		expect(itemsSummary(many.slice(0, 4))).toBe("1 × Item 0, 1 × Item 1, 1 × Item 2 and 1 more item");
	});

	it("says why a payment failed, in words, and falls back for an unknown reason", () => {
		expect(notice("order.payment_failed", { ...order, reason: "insufficient_funds" }).body).toContain("insufficient funds");
		const unknown = notice("order.payment_failed", { ...order, reason: "weird_code" }).body;
		expect(unknown).toContain("declined");
		expect(unknown).not.toContain("weird_code");
	});

	it("says why an order was cancelled", () => {
		expect(notice("order.cancelled", { ...order, reason: "out_of_stock" }).body).toContain("out of stock");
		expect(notice("order.cancelled", { ...order, reason: "cancelled_by_request" }).body).toContain("as you asked");
		expect(notice("order.cancelled", { ...order, reason: "refunded" }).body).toContain("because its payment was refunded");
		expect(notice("order.cancelled", { ...order, reason: null }).body).toContain("because it could not be completed");
	});
});

it("welcomes a new user by name", () => {
	const message = welcomeMessage(withSecrets({ userId: "u1", email: "ann@shop.test", name: "Ann" }));
	expect(message).toMatchObject({ kind: "welcome", title: "Welcome to the shop, Ann!" });
	expect(message.body).toContain("ann@shop.test");
	expectNoSecrets(message.title + message.body);
});

it("tells the refunded amount as money", () => {
	const message = refundOf(withSecrets({ paymentId: "pay-1", orderId: "ord-9", userId: "u1", amount: 2500, currency: "USD" }));
	expect(message.kind).toBe("refund");
	expect(message.title).toContain("$25.00");
	expect(message.body).toContain("$25.00");
	expect(message.body).toContain("ord-9");
	expectNoSecrets(message.title + message.body);
});

it("passes a promotion on as written, with a one-line title", () => {
	const message = promotionMessage({ promotionId: "promo-1", title: "  Spring\r\nsale  ", message: " 20% off everything.\nUntil Sunday. " });
	expect(message).toEqual({ kind: "promotion", title: "Spring sale", body: "20% off everything.\nUntil Sunday." });
});

it("every kind has a template", () => {
	const kinds = new Set([
		welcomeMessage({ userId: "u", email: "e@x.test", name: "N" }).kind,
		...(["order.paid", "order.payment_failed", "order.cancelled", "order.shipped", "order.delivered"] as const).map(t => notice(t, order).kind),
		refundOf({ paymentId: "p", orderId: "o", userId: "u", amount: 1, currency: "USD" }).kind,
		promotionMessage({ promotionId: "p", title: "t", message: "m" }).kind,
	]);
	expect([...kinds].sort()).toEqual([...NOTIFICATION_KINDS].sort());
});

it("mails the title as subject and the body with a greeting", () => {
	const mail = mailText({ kind: "order_shipped", title: "Your order is on its way", body: "Order x has shipped." }, "Ann\r\nBcc: evil@x.test");
	expect(mail.subject).toBe("Your order is on its way");
	expect(mail.text).toContain("Order x has shipped.");
	expect(mail.text.split("\n")[0]).toBe("Hello Ann Bcc: evil@x.test,");
});
