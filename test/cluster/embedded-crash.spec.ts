/**
 * The embedded shop as `npm start` runs it (one process, SQLite files, the in-process event
 * bus), killed while orders are in flight, loses nothing its writes owed: after a restart on
 * the same DATA_DIR, analytics counts every paid order once and every paying customer is told
 * of each of their paid orders.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import os from "node:os";
import path from "node:path";
import { ROOT, startNode, waitForOk, type Child } from "../../bench/lib/processes";
import { waitFor } from "../helpers/cluster";
import { cardPayment, createProduct } from "../helpers/fixtures";
import { client, newCustomer, type Client } from "../helpers/http";
import { freePort } from "./servers";

const ADMIN = { email: "admin@crash.test", password: "crash-admin-password-1" };
const JWT_SECRET = randomBytes(32).toString("hex");
const CUSTOMERS = 8;
const ORDERS = 240;

let dataDir: string;
let logDir: string;
let shop: Child | undefined;

/** The built shop as `npm start` runs it, its data in `dataDir`; answers its URL once it is ready. */
async function startShop(run: string): Promise<string> {
	const port = await freePort();
	shop = startNode(
		"shop-" + run,
		["node_modules/moleculer/bin/moleculer-runner.js", "--config", "dist/moleculer.config.js"],
		{
			SERVICEDIR: "dist/services",
			PORT: String(port),
			DATA_DIR: dataDir,
			JWT_SECRET,
			ADMIN_EMAIL: ADMIN.email,
			ADMIN_PASSWORD: ADMIN.password,
			// What the restart finds owed is relayed at its start and by the scan: scan often, so the test need not wait 30 s for a second page.
			OUTBOX_SCAN_INTERVAL_MS: "1000",
		},
		logDir,
	);
	const url = `http://127.0.0.1:${port}`;
	await waitForOk(shop, `${url}/ready`);
	return url;
}

async function adminOf(api: Client): Promise<string> {
	const res = await api.post("/api/auth/login", ADMIN);
	expect(res.status).toBe(200);
	return res.body.token;
}

/** How many documents of `collection` owe events, read from its file while no shop holds it. */
function owingIn(collection: string): number {
	const db = new DatabaseSync(path.join(dataDir, `${collection}.sqlite`));
	try {
		return (db.prepare('SELECT count(*) AS n FROM docs WHERE "f:outboxSize" > 0').get() as { n: number }).n;
	} finally {
		db.close();
	}
}

/** The ids of every paid order, read page by page as the admin. */
async function paidOrderIds(api: Client, token: string): Promise<string[]> {
	const ids: string[] = [];
	for (let page = 1; ; page += 1) {
		const res = await api.get(`/api/orders?status=paid&pageSize=100&page=${page}`, { token });
		expect(res.status).toBe(200);
		ids.push(...res.body.rows.map((order: { id: string }) => order.id));
		if (page >= res.body.totalPages) return ids;
	}
}

beforeAll(() => {
	dataDir = mkdtempSync(path.join(os.tmpdir(), "shop-crash-"));
	logDir = path.join(ROOT, ".cache", "cluster-logs", `embedded-crash-${Date.now()}`);
});

afterAll(async () => {
	await shop?.stop();
	rmSync(dataDir, { recursive: true, force: true });
});

it("killed with orders in flight, counts and tells every paid order once after a restart", async () => {
	let api = client(await startShop("before-the-kill"));
	let admin = await adminOf(api);
	const productId = await createProduct(api, admin, { name: "Crash mug", price: 900, stock: ORDERS });
	const customers = await Promise.all(Array.from({ length: CUSTOMERS }, (_, i) => newCustomer(api, `Crash customer ${i + 1}`)));

	// Orders in flight, and the process killed once some have been answered: some events are
	// then written and not yet handled, some handled and not yet taken off their outbox.
	let answered = 0;
	const placing = Array.from({ length: ORDERS }, (_, i) =>
		api
			.post("/api/orders", { items: [{ productId, quantity: 1 }], payment: cardPayment() }, { token: customers[i % CUSTOMERS].token })
			.then(() => (answered += 1))
			.catch(() => undefined),
	);
	await waitFor(() => (answered >= ORDERS / 4 ? true : undefined), "a quarter of the orders answered", 60_000);
	const killed = shop!.child;
	const gone = new Promise(resolve => killed.once("exit", resolve));
	killed.kill("SIGKILL");
	await Promise.all([gone, ...placing]);
	// The kill left events owed (written, not yet handled everywhere): what the restart must finish.
	expect(owingIn("orders") + owingIn("payments")).toBeGreaterThan(0);

	api = client(await startShop("after-the-kill"));
	admin = await adminOf(api);
	const paid = await paidOrderIds(api, admin);
	expect(paid.length).toBeGreaterThan(0);

	// Every paid order counted once (a pending one that the restart settles as paid counts too)...
	await waitFor(
		async () => {
			const [summary, nowPaid] = await Promise.all([api.get("/api/analytics/summary", { token: admin }), paidOrderIds(api, admin)]);
			return summary.body.orders === nowPaid.length ? true : undefined;
		},
		"analytics to count every paid order",
		30_000,
	);
	// ...and told to its customer.
	const told = async () => {
		const pages = await Promise.all(customers.map(c => api.get("/api/notifications?pageSize=100", { token: c.token })));
		return new Set(pages.flatMap(res => res.body.rows.filter((n: { kind: string }) => n.kind === "order_paid").map((n: { body: string }) => n.body)));
	};
	await waitFor(
		async () => {
			const bodies = [...(await told())];
			const orders = await paidOrderIds(api, admin);
			return orders.every(id => bodies.some(body => body.includes(id))) ? true : undefined;
		},
		"a notification of every paid order",
		30_000,
	);
});
