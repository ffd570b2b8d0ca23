/**
 * Notifications through the gateway: business events become notifications for the right
 * user, once, and emails that reach a real SMTP server started here.
 */
import type { AddressInfo } from "node:net";
import type { ServiceBroker } from "moleculer";
import { SMTPServer } from "smtp-server";
import type { ShopCluster } from "../helpers/cluster";
import { adminToken, client, newCustomer, type Client } from "../helpers/http";
import { cardPayment, createProduct, SANDBOX_CARDS } from "../helpers/fixtures";

type ReceivedMail = { to: string[]; subject: string; raw: string };

const PROMOTION_BATCH_SIZE = 2;
const received: ReceivedMail[] = [];

let smtp: SMTPServer;
let shop: ShopCluster;
let broker: ServiceBroker;
let api: Client;
let admin: string;
let waitFor: typeof import("../helpers/cluster").waitFor;
let businessEvent: typeof import("../../src/events").businessEvent;

/** The Subject header of a raw message (ASCII subjects; folded lines joined). */
function subjectOf(raw: string): string {
	const head = raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, " ");
	return /^Subject: (.*)$/im.exec(head)?.[1].trim() ?? "";
}

function startSmtpServer(): Promise<number> {
	smtp = new SMTPServer({
		authOptional: true,
		// A plain local relay, like MailHog or Mailpit: no STARTTLS offered.
		disabledCommands: ["STARTTLS"],
		logger: false,
		onData(stream, session, callback) {
			const chunks: Buffer[] = [];
			stream.on("data", (chunk: Buffer) => chunks.push(chunk));
			stream.on("end", () => {
				const raw = Buffer.concat(chunks).toString("utf8");
				received.push({ to: session.envelope.rcptTo.map(address => address.address), subject: subjectOf(raw), raw });
				callback();
			});
		},
	});
	return new Promise(resolve => {
		const server = smtp.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
	});
}

beforeAll(async () => {
	const port = await startSmtpServer();
	// Read by src/config.ts when it loads: set before any project module is imported.
	process.env.SMTP_URL = `smtp://127.0.0.1:${port}`;
	process.env.PROMOTION_BATCH_SIZE = String(PROMOTION_BATCH_SIZE);
	const cluster = await import("../helpers/cluster");
	({ businessEvent } = await import("../../src/events"));
	waitFor = cluster.waitFor;
	shop = await cluster.startShop();
	broker = shop.brokers[0];
	api = client(shop.url);
	admin = await adminToken(api);
});

afterAll(async () => {
	await shop?.stop();
	await new Promise<void>(resolve => (smtp ? smtp.close(() => resolve()) : resolve()));
});

const newProduct = (price: number) => createProduct(api, admin, { price, stock: 50 });

async function placeOrder(token: string, productId: string, quantity: number): Promise<string> {
	const res = await api.post("/api/orders", { items: [{ productId, quantity }], payment: cardPayment() }, { token });
	if (res.status !== 201) throw new Error(`order: ${res.status} ${JSON.stringify(res.body)}`);
	return res.body.id;
}

type Inbox = { rows: { id: string; kind: string; title: string; body: string; read: boolean; createdAt: string }[]; total: number; unread: number };

async function inbox(token: string): Promise<Inbox> {
	const res = await api.get<Inbox>("/api/notifications?pageSize=100", { token });
	if (res.status !== 200) throw new Error(`inbox: ${res.status} ${JSON.stringify(res.body)}`);
	return res.body;
}

/** The inbox once it holds `count` notifications (events arrive asynchronously). */
function inboxOf(token: string, count: number, what: string): Promise<Inbox> {
	return waitFor(async () => {
		const box = await inbox(token);
		return box.total >= count ? box : undefined;
	}, what);
}

const kindsOf = (box: Inbox) => box.rows.map(row => row.kind).sort();
const mailsTo = (email: string) => received.filter(mail => mail.to.includes(email));

/** The service's durable handler for `type`, called the way the bus calls it. */
function deliver(type: string, event: unknown): Promise<void> {
	const service = broker.getLocalService("notifications") as unknown as { schema: { durableEvents: Record<string, (event: unknown) => Promise<void>> } };
	return service.schema.durableEvents[type].call(service, event);
}

it("welcomes a new user in the inbox and by email", async () => {
	const { token, user } = await newCustomer(api, "Ann");
	const box = await inboxOf(token, 1, "the welcome notification");
	expect(box).toMatchObject({ total: 1, unread: 1, page: 1, pageSize: 100, totalPages: 1 });
	expect(box.rows[0]).toEqual({
		id: expect.any(String),
		kind: "welcome",
		title: "Welcome to the shop, Ann!",
		body: expect.stringContaining(user.email),
		read: false,
		createdAt: expect.any(String),
	});

	const [mail] = await waitFor(() => (mailsTo(user.email).length ? mailsTo(user.email) : undefined), "the welcome email");
	expect(mail.to).toEqual([user.email]);
	expect(mail.subject).toBe("Welcome to the shop, Ann!");
});

it("tells an order's owner, and nobody else, that it was paid, shipped, delivered, cancelled and refunded", async () => {
	const owner = await newCustomer(api, "Owner");
	const stranger = await newCustomer(api, "Stranger");
	const productId = await newProduct(1250);

	const delivered = await placeOrder(owner.token, productId, 2);
	expect((await api.patch(`/api/orders/${delivered}/status`, { status: "shipped" }, { token: admin })).status).toBe(200);
	expect((await api.patch(`/api/orders/${delivered}/status`, { status: "delivered" }, { token: admin })).status).toBe(200);
	const cancelled = await placeOrder(owner.token, productId, 1);
	expect((await api.post(`/api/orders/${cancelled}/cancel`, undefined, { token: owner.token })).status).toBe(200);

	const box = await inboxOf(owner.token, 7, "the owner's order notifications");
	expect(kindsOf(box)).toEqual(["order_cancelled", "order_delivered", "order_paid", "order_paid", "order_shipped", "refund", "welcome"]);
	const paid = box.rows.filter(row => row.kind === "order_paid");
	expect(paid.map(row => row.body).sort()).toEqual([expect.stringContaining("$12.50"), expect.stringContaining("$25.00")].sort());
	expect(box.rows.find(row => row.kind === "refund")?.title).toContain("$12.50");
	expect(box.rows.find(row => row.kind === "order_shipped")?.body).toContain(delivered);
	expect(box.rows.find(row => row.kind === "order_cancelled")?.body).toContain(cancelled);
	// Newest first.
	const times = box.rows.map(row => row.createdAt);
	expect([...times].sort().reverse()).toEqual(times);

	// Each notification is mailed to the owner, with its title as subject.
	const mails = await waitFor(() => (mailsTo(owner.user.email).length >= 7 ? mailsTo(owner.user.email) : undefined), "the owner's emails");
	expect(mails.map(mail => mail.subject).sort()).toEqual(box.rows.map(row => row.title).sort());
	expect(mails.every(mail => mail.to.length === 1)).toBe(true);
	expect(mails.some(mail => mail.raw.includes(SANDBOX_CARDS.succeeds))).toBe(false);

	// The stranger only ever gets a welcome.
	expect(kindsOf(await inbox(stranger.token))).toEqual(["welcome"]);
	expect(mailsTo(stranger.user.email).map(mail => mail.subject)).toEqual(["Welcome to the shop, Stranger!"]);
});

it("counts unread, marks one or all read, and answers 404 for someone else's notification", async () => {
	const owner = await newCustomer(api);
	const stranger = await newCustomer(api);
	const productId = await newProduct(500);
	await placeOrder(owner.token, productId, 1);
	await placeOrder(owner.token, productId, 3);
	const box = await inboxOf(owner.token, 3, "three notifications");
	expect(box.unread).toBe(3);

	const [first] = box.rows;
	expect((await api.post(`/api/notifications/${first.id}/read`, undefined, { token: stranger.token })).status).toBe(404);
	expect((await api.post(`/api/notifications/${first.id}/read`, undefined, { token: admin })).status).toBe(404);
	expect((await api.post("/api/notifications/no-such-id/read", undefined, { token: owner.token })).status).toBe(404);
	expect((await inbox(owner.token)).unread).toBe(3);

	const marked = await api.post(`/api/notifications/${first.id}/read`, undefined, { token: owner.token });
	expect(marked.status).toBe(200);
	expect(marked.body).toEqual({ ...first, read: true });
	expect((await api.post(`/api/notifications/${first.id}/read`, undefined, { token: owner.token })).body.read).toBe(true);
	expect((await inbox(owner.token)).unread).toBe(2);

	const all = await api.post("/api/notifications/read-all", undefined, { token: owner.token });
	expect(all.status).toBe(200);
	expect(all.body).toEqual({ updated: 2 });
	const after = await inbox(owner.token);
	expect(after.unread).toBe(0);
	expect(after.rows.every(row => row.read)).toBe(true);
	expect((await api.post("/api/notifications/read-all", undefined, { token: owner.token })).body).toEqual({ updated: 0 });

	// The stranger's own notification was not touched.
	expect((await inbox(stranger.token)).unread).toBe(1);
});

it("pages the inbox and asks for a token", async () => {
	const { token } = await newCustomer(api);
	await inboxOf(token, 1, "the welcome notification");
	const page = await api.get("/api/notifications?page=2&pageSize=1", { token });
	expect(page.body).toMatchObject({ rows: [], total: 1, page: 2, pageSize: 1, totalPages: 1, unread: 1 });
	expect((await api.get("/api/notifications?pageSize=1000", { token })).status).toBe(422);
	expect((await api.get("/api/notifications")).status).toBe(401);
	expect((await api.post("/api/notifications/read-all")).status).toBe(401);
});

it("changes nothing when the same event is delivered a second time, or twice at once", async () => {
	const { token, user } = await newCustomer(api);
	await inboxOf(token, 1, "the welcome notification");
	await waitFor(() => (mailsTo(user.email).length ? true : undefined), "the welcome email");
	const event = businessEvent("order.paid", {
		orderId: "order-replayed",
		userId: user.id,
		status: "paid",
		total: 4200,
		currency: "EUR",
		items: [{ productId: "p1", name: "Kettle", unitPrice: 4200, quantity: 1, lineTotal: 4200 }],
		reason: null,
		paymentId: "payment-replayed",
	});

	await Promise.all([deliver("order.paid", event), deliver("order.paid", event)]);
	await deliver("order.paid", event);

	const box = await inbox(token);
	expect(kindsOf(box)).toEqual(["order_paid", "welcome"]);
	expect(box.rows.find(row => row.kind === "order_paid")?.body).toContain("€42.00");
	const mails = await waitFor(() => (mailsTo(user.email).length >= 2 ? mailsTo(user.email) : undefined), "the order email");
	expect(mails.map(mail => mail.subject)).toEqual(["Welcome to the shop, Customer!", "Payment received for your order"]);
});

it("keeps the notification when its email cannot be sent, and does not store it twice on redelivery", async () => {
	const { token, user } = await newCustomer(api);
	await inboxOf(token, 1, "the welcome notification");
	const service = broker.getLocalService("notifications") as unknown as { mailer: { send(mail: unknown): Promise<unknown> } };
	const send = jest.spyOn(service.mailer, "send").mockRejectedValueOnce(Object.assign(new Error("Connection refused"), { code: "ECONNECTION" }));
	try {
		const event = businessEvent("payment.refunded", { paymentId: "pay-x", orderId: "order-x", userId: user.id, amount: 999, currency: "USD" });
		await deliver("payment.refunded", event);
		await deliver("payment.refunded", event);
		expect(send).toHaveBeenCalledTimes(1);
	} finally {
		send.mockRestore();
	}
	const box = await inbox(token);
	expect(kindsOf(box)).toEqual(["refund", "welcome"]);
	expect(box.rows.find(row => row.kind === "refund")?.title).toBe("Your refund of $9.99 is on its way");
});

describe("promotions", () => {
	it("are for admins only, with a title and a message", async () => {
		const { token } = await newCustomer(api);
		expect((await api.post("/api/promotions", { title: "Sale", message: "Half price" }, { token })).status).toBe(403);
		expect((await api.post("/api/promotions", { title: "Sale", message: "Half price" })).status).toBe(401);
		expect((await api.post("/api/promotions", { title: "   ", message: "Half price" }, { token: admin })).status).toBe(422);
		expect((await api.post("/api/promotions", { title: "Sale", message: "x".repeat(2001) }, { token: admin })).status).toBe(422);
		expect((await api.post("/api/promotions", { title: "x".repeat(121), message: "Half price" }, { token: admin })).status).toBe(422);
	});

	it("reach every user, in the inbox and by email, a batch of users at a time", async () => {
		const customers = await Promise.all(Array.from({ length: 3 }, (_, i) => newCustomer(api, `Promo ${i}`)));
		const users = (await api.get("/api/users?pageSize=100", { token: admin })).body;
		expect(users.total).toBeGreaterThan(2 * PROMOTION_BATCH_SIZE);
		const emails: string[] = users.rows.map((u: { email: string }) => u.email);
		const call = jest.spyOn(broker, "call");

		const title = `Spring sale ${Date.now()}`;
		const res = await api.post("/api/promotions", { title: `  ${title} `, message: " 20% off everything until Sunday. " }, { token: admin });
		expect(res.status).toBe(202);
		expect(res.body).toEqual({ promotionId: expect.any(String) });

		const promoMails = () => received.filter(mail => mail.subject === title);
		await waitFor(() => (promoMails().length >= emails.length ? true : undefined), "the promotion emails");
		expect(
			promoMails()
				.flatMap(mail => mail.to)
				.sort(),
		).toEqual([...emails].sort());

		for (const customer of customers) {
			const promotion = (await inbox(customer.token)).rows.filter(row => row.kind === "promotion");
			expect(promotion).toEqual([expect.objectContaining({ title, body: "20% off everything until Sunday.", read: false })]);
		}

		const pages = call.mock.calls.filter(([action]) => action === "users.recipients").map(([, params]) => params as { page: number; pageSize: number });
		call.mockRestore();
		expect(pages.every(page => page.pageSize === PROMOTION_BATCH_SIZE)).toBe(true);
		expect(pages.map(page => page.page)).toEqual(Array.from({ length: pages.length }, (_, i) => i + 1));
		expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(emails.length / PROMOTION_BATCH_SIZE));
	});

	it("are not sent twice to anyone when the event comes again", async () => {
		const { token } = await newCustomer(api);
		const event = businessEvent("promotion.created", { promotionId: "promo-again", title: "Flash sale", message: "Today only" });
		await deliver("promotion.created", event);
		const count = () => received.filter(mail => mail.subject === "Flash sale").length;
		const first = await waitFor(() => (count() > 0 ? count() : undefined), "the flash sale emails");
		await deliver("promotion.created", event);
		expect(count()).toBe(first);
		expect((await inbox(token)).rows.filter(row => row.kind === "promotion")).toHaveLength(1);
	});
});
