/**
 * The web console in a real browser: a shopper buys, a declined card is shown as such,
 * an operator sees the sale and ships it, and the cluster map follows nodes as they come
 * and go. Screenshots of each main page go to .cache/e2e-screenshots/.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { waitFor } from "../helpers/cluster";
import { client, newCustomer } from "../helpers/http";
import {
	accessibilityProblems,
	ADMIN,
	launchBrowser,
	logIn,
	screenshot,
	startMailroom,
	startShop,
	startVisitorNode,
	type Mailroom,
	type Shop,
} from "./console";

let shop: Shop;
let mailroom: Mailroom;
let browser: Browser;
let shopperContext: BrowserContext;
let shopper: Page;
const pageProblems: string[] = [];

const shopperEmail = `ann-${Date.now()}@shop.test`;

beforeAll(async () => {
	[shop, browser] = await Promise.all([startShop(), launchBrowser()]);
	mailroom = await startMailroom(shop.broker);
	shopperContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	shopper = await shopperContext.newPage();
	// Script errors, and anything the Content-Security-Policy refused, fail the last shopper test.
	shopper.on("pageerror", err => pageProblems.push(err.message));
	shopper.on("console", message => {
		if (message.type() === "error" && /Content Security Policy|Refused to/.test(message.text())) pageProblems.push(message.text());
	});
});

afterAll(async () => {
	await browser?.close();
	await shop?.stop();
});

async function stockOf(name: string): Promise<number> {
	const res = await client(shop.url).get(`/api/products/${shop.products[name].id}`);
	return res.body.stock;
}

test("the gateway serves the console on / and keeps /api, /health and /ready", async () => {
	const page = await fetch(`${shop.url}/`);
	expect(page.status).toBe(200);
	expect(page.headers.get("content-type")).toContain("text/html");
	expect(await page.text()).toContain('<script type="module" src="app.js">');
	expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
	expect((await fetch(`${shop.url}/app.js`)).status).toBe(200);

	const api = client(shop.url);
	expect((await api.get("/health")).body.status).toBe("ok");
	expect((await api.get("/ready")).status).toBe(200);
	expect((await api.get("/api/products")).body.total).toBe(3);
	const unknown = await api.get("/api/nothing-here");
	expect(unknown.status).toBe(404);
	expect(unknown.body.code).toBe(404);
});

test("a shopper signs up, searches, buys two products with 4242… and sees the order paid and the notification", async () => {
	await shopper.goto(`${shop.url}/#/signup`);
	await shopper.getByLabel("Name").fill("Ann");
	await shopper.getByLabel("Email").fill(shopperEmail);
	await shopper.getByLabel("Password").fill("correct-horse-1");
	await shopper.getByRole("button", { name: "Create account" }).click();
	await shopper.getByRole("button", { name: "Log out" }).waitFor();

	await shopper.getByRole("searchbox", { name: "Search" }).fill("garden");
	await shopper.getByText("2 products").waitFor();
	await screenshot(shopper, "storefront");
	expect(await accessibilityProblems(shopper)).toEqual([]);
	await shopper.getByRole("button", { name: "Add Garden hose to cart" }).click();
	await shopper.getByRole("button", { name: "Add Garden gloves to cart" }).click();

	await shopper.getByRole("link", { name: /^Cart/ }).click();
	expect(await shopper.getByTestId("cart-total").textContent()).toBe("$42.49");
	await shopper.getByLabel("Card number").fill("4242424242424242");
	await shopper.getByLabel("CVC").fill("123");
	await screenshot(shopper, "checkout");
	expect(await accessibilityProblems(shopper)).toEqual([]);
	await shopper.getByRole("button", { name: "Pay $42.49" }).click();
	await shopper.getByRole("heading", { name: "Thank you" }).waitFor();
	expect(await shopper.locator(".alert.success .badge").textContent()).toBe("Paid");

	await shopper.getByRole("link", { name: "See your orders" }).click();
	const order = shopper.locator(".order").first();
	expect(await order.locator(".badge").textContent()).toBe("Paid");
	expect(await order.locator(".items").textContent()).toContain("1 × Garden hose");

	// The inbox: the welcome and the order-paid notifications, counted as unread in the header.
	await shopper.getByTestId("unread").filter({ hasText: "2" }).waitFor();
	await shopper.getByRole("link", { name: /^Inbox/ }).click();
	await shopper.getByRole("heading", { name: "Payment received for your order" }).waitFor();
	await screenshot(shopper, "inbox");
	expect(await accessibilityProblems(shopper)).toEqual([]);
	await shopper.getByRole("button", { name: "Mark all read" }).click();
	await shopper.getByTestId("unread").filter({ hasText: "0" }).waitFor();
});

test("a declined card shows the decline and leaves the stock as it was", async () => {
	const before = await stockOf("Field guide to birds");
	await shopper.goto(`${shop.url}/#/product/${shop.products["Field guide to birds"].id}`);
	await shopper.getByRole("heading", { name: "Field guide to birds" }).waitFor();
	await shopper.getByRole("button", { name: "Add to cart" }).click();
	await shopper.getByRole("link", { name: "Go to the cart" }).click();

	await shopper.getByLabel("Card number").fill("4000000000000002");
	await shopper.getByLabel("CVC").fill("123");
	await shopper.getByRole("button", { name: /^Pay / }).click();
	const alert = shopper.getByRole("alert");
	await alert.waitFor();
	expect(await alert.textContent()).toContain("Payment declined. Your card was declined.");

	// A second try with the insufficient-funds card says so.
	await shopper.getByLabel("Card number").fill("4000000000009995");
	await shopper.getByRole("button", { name: /^Pay / }).click();
	await shopper.getByText("Your card was declined for insufficient funds").waitFor();
	await screenshot(shopper, "declined");
	expect(await accessibilityProblems(shopper)).toEqual([]);
	expect(await stockOf("Field guide to birds")).toBe(before);

	// The cart is kept; the failed order shows in the history as such.
	await shopper.getByRole("link", { name: "Orders", exact: true }).click();
	await shopper.locator(".order .badge", { hasText: "Payment failed" }).first().waitFor();
});

test("the API's validation messages show at the fields", async () => {
	await shopper.getByRole("link", { name: /^Cart/ }).click();
	await shopper.getByLabel("Card number").fill("4242424242424241");
	await shopper.getByLabel("CVC").fill("123");
	await shopper.getByRole("button", { name: /^Pay / }).click();
	const cardError = shopper.locator("#card-number-error");
	await cardError.waitFor();
	expect(await shopper.getByLabel("Card number").getAttribute("aria-invalid")).toBe("true");
	expect((await cardError.textContent())?.length).toBeGreaterThan(0);
	await shopper.getByRole("button", { name: "Remove Field guide to birds" }).click();
});

test("an operator sees the sale on the chart and the board, ships it, and the shopper sees it shipped", async () => {
	const admin = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
	await logIn(admin, shop.url, ADMIN.email, ADMIN.password);

	await admin.getByRole("link", { name: "Analytics" }).click();
	const summary = admin.getByTestId("summary");
	await summary.getByText("$42.49").waitFor();
	// One day with sales, sign-ups and failures (the declined cards): one bar each; no refunds yet.
	const barsOf = async (chart: string) => {
		const figure = admin.locator("figure", { hasText: chart });
		await figure.waitFor();
		const heights = await figure.locator("rect.bar").evaluateAll(bars => bars.map(bar => Number(bar.getAttribute("height"))));
		return heights.filter(h => h > 0).length;
	};
	// (The event-log charts are read again every 10 s; events still being counted show on the next read.)
	const barsSettle = (chart: string, count: number) =>
		waitFor(async () => ((await barsOf(chart)) === count ? true : undefined), `${count} bar(s) in "${chart}"`, 15_000);
	await barsSettle("Orders per day", 1);
	await barsSettle("Sign-ups per day", 1);
	await barsSettle("Payment failures per day", 1);
	expect(await barsOf("Refunds per day")).toBe(0);
	const best = admin.getByRole("list", { name: "Units sold, all time" }).getByRole("listitem");
	await best.first().waitFor();
	expect(await best.allTextContents()).toEqual(expect.arrayContaining(["Garden hose1 unit", "Garden gloves1 unit"]));
	await screenshot(admin, "analytics");
	expect(await accessibilityProblems(admin)).toEqual([]);

	// A range that ends before today has no sales; an inverted one gets the API's message at the field.
	const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
	await admin.getByLabel("To", { exact: true }).fill(yesterday);
	await barsSettle("Orders per day", 0);
	const today = new Date().toISOString().slice(0, 10);
	await admin.getByLabel("From", { exact: true }).fill(today);
	await admin.locator("#to-error").getByText("to must not be before from").waitFor();
	await admin.getByLabel("To", { exact: true }).fill(today);
	await barsSettle("Orders per day", 1);

	// The shopper watches the order while the operator ships it: it changes without a reload.
	await shopper.goto(`${shop.url}/#/orders`);
	await shopper.locator(".order .badge", { hasText: "Paid" }).waitFor();

	await admin.getByRole("link", { name: "Orders", exact: true }).last().click();
	const paid = admin.locator('[data-status="paid"] .board-card');
	await paid.first().waitFor();
	expect(await paid.count()).toBe(1);
	expect(await paid.first().textContent()).toContain("$42.49");
	await screenshot(admin, "orders-board");
	expect(await accessibilityProblems(admin)).toEqual([]);
	await paid.first().getByRole("button", { name: "Ship" }).click();
	await admin.locator('[data-status="shipped"] .board-card').first().waitFor();

	await shopper.locator(".order .badge", { hasText: "Shipped" }).waitFor();

	await admin.locator('[data-status="shipped"] .board-card').first().getByRole("button", { name: "Deliver" }).click();
	await admin.locator('[data-status="delivered"] .board-card').first().waitFor();
	await shopper.locator(".order .badge", { hasText: "Delivered" }).waitFor();
	await shopper.getByRole("link", { name: /^Inbox/ }).click();
	await shopper.getByRole("heading", { name: "Your order is on its way" }).waitFor();
	await shopper.getByRole("heading", { name: "Your order was delivered" }).waitFor();
	await admin.context().close();
});

test("an operator changes stock, sends a promotion the shopper receives, and replays it to a consumer that had failed on it", async () => {
	const admin = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
	await logIn(admin, shop.url, ADMIN.email, ADMIN.password);

	await admin.getByRole("link", { name: "Products", exact: true }).last().click();
	const before = await stockOf("Field guide to birds");
	await admin.getByLabel("Stock change for Field guide to birds").fill("5");
	await admin.locator(`[data-product-id="${shop.products["Field guide to birds"].id}"]`).getByRole("button", { name: "Apply" }).click();
	await admin.getByText("Stock of Field guide to birds changed by 5.").waitFor();
	expect(await stockOf("Field guide to birds")).toBe(before + 5);
	// A product without a name: the API's message shows at the field.
	await admin.getByRole("button", { name: "Add product" }).click();
	await admin.locator("#p-name-error").waitFor();
	await screenshot(admin, "products-admin");
	expect(await accessibilityProblems(admin)).toEqual([]);

	await admin.getByRole("link", { name: "Promotions" }).click();
	await admin.getByLabel("Title").fill("Spring sale");
	await admin.getByLabel("Message").fill("Everything for the garden, 10% off this week.");
	await admin.getByRole("button", { name: "Send to everyone" }).click();
	await admin.getByText("“Spring sale” is on its way to every user.").waitFor();
	await shopper.goto(`${shop.url}/#/notifications`);
	await shopper.getByRole("heading", { name: "Spring sale" }).waitFor();

	// The mail room failed on the promotion until it gave up: a dead letter, replayed once it is open.
	await admin.getByRole("link", { name: "Dead letters" }).click();
	const letter = admin.getByRole("listitem").filter({ hasText: "promotion.created" });
	await letter.getByText("for mailroom").waitFor();
	expect(await letter.textContent()).toContain("The mail room is closed");
	await screenshot(admin, "dead-letters");
	expect(await accessibilityProblems(admin)).toEqual([]);
	mailroom.closed = false;
	await letter.getByRole("button", { name: "Replay" }).click();
	await admin.getByText("promotion.created replayed to mailroom; the dead letter goes once the event is handled.").waitFor();
	await admin.getByTestId("no-dead-letters").waitFor();
	await waitFor(() => (mailroom.received.length === 1 ? true : undefined), "the replayed promotion");
	await admin.context().close();
});

test("the cluster map shows a node joining and leaving while the page is open", async () => {
	const admin = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
	await logIn(admin, shop.url, ADMIN.email, ADMIN.password);
	const polls: number[] = [];
	admin.on("response", res => {
		if (res.url().endsWith("/api/discovery/health")) polls.push(res.status());
	});
	await admin.getByRole("link", { name: "Cluster" }).click();
	await admin.getByTestId("health").getByText("healthy").waitFor();
	await admin.locator('[data-node-id="shop"]').waitFor();

	const visitor = await startVisitorNode(shop.namespace, "visitor-1");
	try {
		const card = admin.locator('[data-node-id="visitor-1"]');
		await card.waitFor();
		expect(await card.textContent()).toContain("visitor");
		await admin.getByTestId("history").getByText("visitor-1 joined").waitFor();
		await screenshot(admin, "cluster");
		expect(await accessibilityProblems(admin)).toEqual([]);
	} finally {
		await visitor.stop();
	}
	await admin.getByTestId("history").getByText("visitor-1 left").waitFor();
	await admin.locator('[data-node-id="visitor-1"]').getByText("unavailable").waitFor();
	// The health did not change while the node came and went: its polls were answered 304.
	expect(polls).toContain(304);
	await admin.context().close();
});

test("the storefront and the operator views fit a phone-sized screen", async () => {
	const phone = await (await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })).newPage();
	await phone.goto(`${shop.url}/#/`);
	await phone.getByRole("heading", { name: "Products" }).waitFor();
	await phone.getByRole("button", { name: "Add Garden hose to cart" }).waitFor();
	const overflow = () => phone.evaluate<number>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
	expect(await overflow()).toBeLessThanOrEqual(0);
	await screenshot(phone, "storefront-phone");
	expect(await accessibilityProblems(phone)).toEqual([]);

	// Every operator view fits too: wide tables scroll inside themselves, not the page.
	await logIn(phone, shop.url, ADMIN.email, ADMIN.password);
	for (const [view, heading] of [
		["cluster", "Cluster"],
		["analytics", "Analytics"],
		["orders", "Orders"],
		["products", "Products and stock"],
		["promotions", "Promotions"],
		["dead-letters", "Dead letters"],
	]) {
		await phone.goto(`${shop.url}/#/admin/${view}`);
		await phone.getByRole("heading", { name: heading, exact: true }).waitFor();
		await phone.locator("main [role=status]").filter({ hasText: "Loading" }).first().waitFor({ state: "detached" });
		expect([view, await overflow()]).toEqual([view, 0]);
	}
	await phone.context().close();
});

test("the keyboard alone finds a product and puts it in the cart", async () => {
	const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
	await page.goto(`${shop.url}/#/`);
	await page.getByRole("heading", { name: "Products" }).waitFor();
	const focused = () => page.evaluate<string>("document.activeElement.textContent.trim() || document.activeElement.id");

	await page.keyboard.press("Tab");
	expect(await focused()).toBe("Skip to content");
	await page.keyboard.press("Enter");
	await page.keyboard.press("Tab");
	expect(await focused()).toBe("search");
	await page.keyboard.type("hose");
	await page.getByText("1 product", { exact: true }).waitFor();
	for (let tabs = 0; tabs < 10 && !(await focused()).startsWith("Add Garden hose"); tabs++) await page.keyboard.press("Tab");
	expect(await focused()).toBe("Add Garden hose to cart");
	await page.keyboard.press("Enter");
	await page.getByRole("link", { name: "Cart 1 item" }).waitFor();
	await page.context().close();
});

test("a shopper cancels a paid order: it shows cancelled and the stock comes back", async () => {
	const before = await stockOf("Field guide to birds");
	await shopper.evaluate("localStorage.removeItem('shop.cart')");
	await shopper.goto(`${shop.url}/#/product/${shop.products["Field guide to birds"].id}`);
	await shopper.reload();
	await shopper.getByLabel("Quantity").fill("2");
	await shopper.getByRole("button", { name: "Add to cart" }).click();
	await shopper.getByRole("link", { name: "Go to the cart" }).click();
	await shopper.getByRole("button", { name: "4242424242424242 (always paid)" }).click();
	await shopper.getByRole("button", { name: "Pay $68.00" }).click();
	await shopper.getByRole("heading", { name: "Thank you" }).waitFor();
	expect(await stockOf("Field guide to birds")).toBe(before - 2);

	await shopper.getByRole("link", { name: "See your orders" }).click();
	const order = shopper.locator(".order").first();
	await order.getByRole("button", { name: "Cancel and refund" }).click();
	await shopper
		.getByRole("status")
		.filter({ hasText: /Cancelling|cancelled and refunded/ })
		.waitFor();
	await order.locator(".badge", { hasText: "Cancelled" }).waitFor();
	await screenshot(shopper, "orders");
	expect(await accessibilityProblems(shopper)).toEqual([]);
	expect(await stockOf("Field guide to birds")).toBe(before);
	expect(pageProblems).toEqual([]);

	await shopper.getByRole("button", { name: "Log out" }).click();
	await shopper.getByRole("link", { name: "Log in", exact: true }).waitFor();
	expect(await shopper.getByRole("link", { name: "Orders", exact: true }).count()).toBe(0);
});

test("an operator refunds a paid order from the board, and it ends cancelled", async () => {
	const api = client(shop.url);
	const customer = await newCustomer(api, "Bea");
	const placed = await api.post(
		"/api/orders",
		{
			items: [{ productId: shop.products["Garden gloves"].id, quantity: 1 }],
			payment: { method: "card", card: { number: "4242424242424242", expMonth: 12, expYear: new Date().getFullYear() + 3, cvc: "123" } },
		},
		{ token: customer.token },
	);
	expect(placed.status).toBe(201);

	const admin = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
	await logIn(admin, shop.url, ADMIN.email, ADMIN.password);
	await admin.getByRole("link", { name: "Orders", exact: true }).last().click();
	const card = admin.locator(`[data-order-id="${placed.body.id}"]`);
	await card.getByRole("button", { name: "Refund" }).click();
	await admin.locator(`[data-status="cancelled"] [data-order-id="${placed.body.id}"]`).waitFor();
	expect(await card.textContent()).toContain("refunded");
	await admin.context().close();
});
