/**
 * NATS killed with -9 while orders flow, and started again: nothing a write owed is lost.
 * Every paid order is told to its owner once and counted once in analytics, every order
 * given up is told once, and every unit of stock is in stock or held by a paid order.
 */
import type { ComposeCluster } from "./compose-cluster";
import { sleep, startCluster, steadyLoad } from "./running-cluster";
import { startOwnNats, type OwnNats } from "./servers";
import { testServers } from "./servers-from-env";
import { waitFor } from "../helpers/cluster";
import { cardPayment } from "../helpers/fixtures";
import { newCustomer, type Client, type Reply } from "../helpers/http";

const CARD = cardPayment();

type OrderRow = { id: string; userId: string; status: string; items: { productId: string; quantity: number }[] };
type Buyer = { token: string; user: { id: string } };

let nats: OwnNats;
let cluster: ComposeCluster;
let api: Client;
let admin: string;

jest.setTimeout(240_000);

beforeAll(async () => {
	nats = await startOwnNats();
	({ cluster, api, adminToken: admin } = await startCluster({}, { ...testServers(), natsUrl: nats.url }));
}, 180_000);

afterAll(async () => {
	await cluster?.stopAll();
	await nats?.stop();
});

async function allRows<T>(path: string, token = admin): Promise<T[]> {
	const rows: T[] = [];
	for (let page = 1; ; page++) {
		const res = await api.get(`${path}${path.includes("?") ? "&" : "?"}page=${page}&pageSize=100`, { token });
		if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
		rows.push(...res.body.rows);
		if (page >= res.body.totalPages) return rows;
	}
}

it("loses no event, no notification and no stock when NATS is killed and comes back while orders flow", async () => {
	const initial = 500;
	const created = await api.post("/api/products", { name: "Outage mug", price: 900, currency: "USD", category: "tests", stock: initial }, { token: admin });
	const productId = created.body.id as string;
	const buyers: Buyer[] = await Promise.all(Array.from({ length: 4 }, () => newCustomer(api)));
	let seq = 0;
	let retried = 0;

	/** A client that retries with the same Idempotency-Key until it gets an answer that is not a 5xx. */
	async function placeWithRetries(): Promise<Reply | null> {
		const n = seq++;
		for (let attempt = 0; attempt < 20; attempt++) {
			const reply = await api
				.post(
					"/api/orders",
					{ items: [{ productId, quantity: 1 }], payment: CARD },
					{ token: buyers[n % 4].token, headers: { "idempotency-key": `outage-${n}` } },
				)
				.catch(() => null);
			if (reply && reply.status < 500) return reply;
			retried += 1;
			await sleep(500);
		}
		return null;
	}

	const outage = (async () => {
		await sleep(2000);
		nats.kill();
		await sleep(3000);
		await nats.start();
		await sleep(4000);
	})();
	const replies = await steadyLoad(4, placeWithRetries, outage, 90_000);
	expect(replies.filter(reply => reply === null)).toEqual([]);
	// The outage was felt: some requests failed and were asked again.
	expect(retried).toBeGreaterThan(0);
	expect(replies.filter(reply => reply!.status === 201).length).toBeGreaterThan(5);

	// Sagas cut off by the outage are settled; then everything owed has arrived.
	await waitFor(async () => ((await allRows<OrderRow>("/api/orders?status=pending")).length === 0 ? true : undefined), "no pending order", 90_000);
	const orders = (await allRows<OrderRow>("/api/orders")).filter(order => order.items.some(item => item.productId === productId));
	const paid = orders.filter(order => order.status === "paid");
	const givenUp = orders.filter(order => order.status === "cancelled" || order.status === "payment_failed");
	expect(paid.length + givenUp.length).toBe(orders.length);

	// Stock: every unit in stock or held by a paid order.
	const held = paid.reduce((sum, order) => sum + order.items[0].quantity, 0);
	await waitFor(async () => ((await api.get(`/api/products/${productId}`)).body.stock === initial - held ? true : undefined), "the stock to add up", 60_000);

	// Analytics: every paid order counted once, no more, also after a while.
	await waitFor(async () => ((await api.get("/api/analytics/summary", { token: admin })).body.orders >= paid.length ? true : undefined), "analytics", 90_000);
	await sleep(3000);
	expect((await api.get("/api/analytics/summary", { token: admin })).body.orders).toBe(paid.length);

	// Notifications: each owner told once of each paid order and of each order given up.
	const told = new Map<string, number>();
	await waitFor(
		async () => {
			told.clear();
			for (const buyer of buyers) {
				for (const note of await allRows<{ kind: string; body: string }>("/api/notifications", buyer.token)) {
					const order = orders.find(o => note.body.includes(o.id));
					if (order) told.set(`${order.id}:${note.kind}`, (told.get(`${order.id}:${note.kind}`) ?? 0) + 1);
				}
			}
			return paid.every(order => told.has(`${order.id}:order_paid`)) && givenUp.every(order => [...told.keys()].some(k => k.startsWith(order.id)))
				? true
				: undefined;
		},
		"every notification",
		90_000,
	);
	expect([...told.values()].every(count => count === 1)).toBe(true);
});
