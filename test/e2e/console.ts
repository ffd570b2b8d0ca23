/**
 * What the browser tests share: the shop on an in-process broker joined to the Fake
 * transporter (so that a test can add a node to its namespace), a few products, and
 * headless Chromium from the system (no browser download).
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { ServiceBroker } from "moleculer";
import { DurableEvents } from "../../mixins/durable-events.mixin";
import type { BusinessEvent } from "../../src/events";
import { chromium, type Browser, type Page } from "playwright-core";
import { config } from "../../src/config";
import { ALL_SERVICES, freshNamespace, gatewayUrl, startNode, waitForRoutes } from "../helpers/cluster";
import { adminToken, client } from "../helpers/http";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Screenshots are test artifacts, kept in a folder git ignores. */
export const SCREENSHOTS = path.resolve(".cache/e2e-screenshots");

export const PRODUCTS = [
	{ name: "Garden hose", description: "Twenty metres, kink free", price: 2999, currency: "USD", category: "garden", stock: 10 },
	{ name: "Garden gloves", description: "Leather, one size", price: 1250, currency: "USD", category: "garden", stock: 10 },
	{ name: "Field guide to birds", description: "Six hundred species", price: 3400, currency: "USD", category: "books", stock: 10 },
];

export type Shop = { url: string; namespace: string; broker: ServiceBroker; products: Record<string, { id: string }>; stop(): Promise<void> };

export async function startShop(): Promise<Shop> {
	if (!existsSync(path.join(config.gateway.webDir, "index.html"))) {
		throw new Error(`No built console in ${config.gateway.webDir}: run "npm run build" (npm run test:e2e does)`);
	}
	const namespace = freshNamespace();
	const broker = await startNode({ nodeID: "shop", namespace, services: Object.keys(ALL_SERVICES), networked: true });
	const url = gatewayUrl(broker);
	await waitForRoutes(url);
	const api = client(url);
	const token = await adminToken(api);
	const products: Shop["products"] = {};
	for (const product of PRODUCTS) {
		const res = await api.post("/api/products", product, { token });
		if (res.status !== 201) throw new Error(`creating ${product.name}: ${res.status} ${JSON.stringify(res.body)}`);
		products[product.name] = res.body;
	}
	return { url, namespace, broker, products, stop: () => broker.stop() };
}

/** A node with one small service that joins the shop's namespace, as a new instance would. */
export async function startVisitorNode(namespace: string, nodeID: string): Promise<ServiceBroker> {
	const broker = new ServiceBroker({ nodeID, namespace, transporter: "Fake", logger: false, heartbeatInterval: 1, heartbeatTimeout: 3 });
	broker.createService({ name: "visitor", actions: { hello: () => "hello" } });
	await broker.start();
	return broker;
}

/**
 * A consumer of promotion.created that fails while `closed` is true, as a service whose
 * mail server is down would: its events end up in the dead letters, ready to be replayed.
 */
export type Mailroom = { closed: boolean; received: string[] };

export async function startMailroom(broker: ServiceBroker): Promise<Mailroom> {
	const mailroom: Mailroom = { closed: true, received: [] };
	broker.createService({
		name: "mailroom",
		mixins: [DurableEvents],
		durableEvents: {
			async "promotion.created"(event: BusinessEvent) {
				if (mailroom.closed) throw new Error("The mail room is closed");
				mailroom.received.push(event.id);
			},
		},
	});
	await broker.waitForServices("mailroom");
	return mailroom;
}

export async function launchBrowser(): Promise<Browser> {
	if (!existsSync(CHROMIUM)) {
		throw new Error(`No Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
	}
	await mkdir(SCREENSHOTS, { recursive: true });
	return chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
}

export async function screenshot(page: Page, name: string): Promise<void> {
	await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/**
 * What axe-core (the accessibility rules engine browsers' audit tools use) finds on the
 * page at "serious" or "critical" impact: missing labels, low contrast, bad ARIA, and so on.
 */
export async function accessibilityProblems(page: Page): Promise<string[]> {
	// Evaluated rather than added as a <script>: the console's CSP refuses inline scripts.
	await page.evaluate(axeSource);
	const violations = await page.evaluate<{ id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[]>(
		"axe.run(document, { resultTypes: ['violations'] }).then(result => result.violations)",
	);
	return violations
		.filter(v => v.impact === "serious" || v.impact === "critical")
		.map(v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target.join(" ")).join(", ")})`);
}

export const ADMIN = { email: process.env.ADMIN_EMAIL as string, password: process.env.ADMIN_PASSWORD as string };

export async function logIn(page: Page, url: string, email: string, password: string): Promise<void> {
	await page.goto(`${url}/#/login`);
	await page.getByLabel("Email").fill(email);
	await page.getByLabel("Password").fill(password);
	await page.getByRole("button", { name: "Log in" }).click();
	await page.getByRole("button", { name: "Log out" }).waitFor();
}
