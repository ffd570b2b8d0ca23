/**
 * Orders across instances on the MongoDB wire server: 2 catalog and 2 orders instances
 * never oversell, a product read through the gateway shows every change at once, and
 * killing an orders instance in the middle of the flow loses no acknowledged order and
 * charges none twice.
 */
import type { ComposeCluster } from "./compose-cluster";
import { sleep, startCluster, steadyLoad } from "./running-cluster";
import { waitFor } from "../helpers/cluster";
import { cardPayment, createProduct } from "../helpers/fixtures";
import { newCustomer, type Client, type Reply } from "../helpers/http";

const SCALE = { catalog: 2, orders: 2 };
const CARD = cardPayment();

let cluster: ComposeCluster;
let api: Client;
let admin: string;

type OrderRow = { id: string; status: string; paymentId: string | null; items: { productId: string; quantity: number }[] };
type PaymentRow = { id: string; orderId: string; status: string };

const newProduct = (stock: number) => createProduct(api, admin, { name: "Cluster mug", price: 700, stock });

const stockOf = async (productId: string): Promise<number> => (await api.get(`/api/products/${productId}`)).body.stock;

/** Every row of a paged admin list. */
async function allRows<T>(path: string): Promise<T[]> {
	const rows: T[] = [];
	for (let page = 1; ; page++) {
		const res = await api.get(`${path}${path.includes("?") ? "&" : "?"}page=${page}&pageSize=100`, { token: admin });
		rows.push(...res.body.rows);
		if (page >= res.body.totalPages) return rows;
	}
}

function heldUnits(orders: OrderRow[], productId: string): number {
	return orders
		.filter(o => !["cancelled", "payment_failed"].includes(o.status))
		.flatMap(o => o.items)
		.filter(i => i.productId === productId)
		.reduce((sum, i) => sum + i.quantity, 0);
}

jest.setTimeout(240_000);

beforeAll(async () => {
	({ cluster, api, adminToken: admin } = await startCluster(SCALE));
}, 180_000);

afterAll(async () => {
	await cluster?.stopAll();
});

it("sells exactly the stock to 50 parallel orders across 2 catalog and 2 orders instances", async () => {
	const productId = await newProduct(10);
	const buyers = await Promise.all(Array.from({ length: 5 }, () => newCustomer(api)));
	const results = await Promise.all(
		Array.from({ length: 50 }, (_, i) => api.post("/api/orders", { items: [{ productId, quantity: 1 }], payment: CARD }, { token: buyers[i % 5].token })),
	);

	expect(results.filter(r => r.status === 201)).toHaveLength(10);
	expect(results.filter(r => r.status === 409)).toHaveLength(40);
	expect(await stockOf(productId)).toBe(0);
	const orders = await allRows<OrderRow>("/api/orders");
	expect(heldUnits(orders, productId)).toBe(10);
});

it("shows a product's new stock and price at once after an order and an edit, though the gateway keeps product answers near", async () => {
	const productId = await newProduct(5);
	const { token } = await newCustomer(api);
	// Read twice: the second answer comes from the gateway's memory.
	for (let i = 0; i < 2; i++) expect(await stockOf(productId)).toBe(5);
	const list = async () => (await api.get("/api/products?category=tests&pageSize=100")).body.rows.find((p: { id: string }) => p.id === productId)?.stock;
	for (let i = 0; i < 2; i++) expect(await list()).toBe(5);

	expect((await api.post("/api/orders", { items: [{ productId, quantity: 2 }], payment: CARD }, { token })).status).toBe(201);
	expect(await stockOf(productId)).toBe(3);
	expect(await list()).toBe(3);

	expect((await api.patch(`/api/products/${productId}`, { price: 750 }, { token: admin })).status).toBe(200);
	expect((await api.get(`/api/products/${productId}`)).body.price).toBe(750);
});

it("loses no acknowledged order and charges none twice when an orders instance is killed mid-flow", async () => {
	const initial = 1000;
	const productId = await newProduct(initial);
	const buyers = await Promise.all(Array.from({ length: 4 }, () => newCustomer(api)));
	let seq = 0;

	/** Every order id a key was answered with: one key must never make two orders. */
	const orderIdsByKey = new Map<string, Set<string>>();

	/** A client that retries a failed request with the same Idempotency-Key, as it should. */
	async function placeWithRetries(): Promise<{ key: string; reply: Reply | null }> {
		const n = seq++;
		const key = `kill-test-${n}`;
		orderIdsByKey.set(key, new Set());
		for (let attempt = 0; attempt < 5; attempt++) {
			const reply = await api
				.post("/api/orders", { items: [{ productId, quantity: 1 }], payment: CARD }, { token: buyers[n % 4].token, headers: { "idempotency-key": key } })
				.catch(() => null);
			const orderId = reply?.body?.id ?? reply?.body?.data?.orderId;
			if (orderId) orderIdsByKey.get(key)!.add(orderId);
			if (reply && reply.status < 500) return { key, reply };
			await sleep(500);
		}
		return { key, reply: null };
	}

	const victim = cluster.of("orders")[0];
	const killing = (async () => {
		await sleep(2000);
		await cluster.stop(victim, "SIGKILL");
		await sleep(3000);
	})();
	const results = await steadyLoad(4, placeWithRetries, killing);

	expect(results.length).toBeGreaterThan(10);
	for (const ids of orderIdsByKey.values()) expect(ids.size).toBeLessThanOrEqual(1);
	expect(results.filter(r => r.reply === null)).toEqual([]);
	const acknowledged = results.filter(r => r.reply!.status === 201 || (r.reply!.status === 200 && r.reply!.body.status === "paid"));
	expect(acknowledged.length).toBeGreaterThan(0);

	// Abandoned sagas are settled by the surviving instance.
	await waitFor(async () => ((await allRows<OrderRow>("/api/orders?status=pending")).length === 0 ? true : undefined), "no pending order", 60_000);
	const orders = await allRows<OrderRow>("/api/orders");
	const byId = new Map(orders.map(o => [o.id, o]));
	for (const { reply } of acknowledged) expect(byId.get(reply!.body.id)?.status).toBe("paid");

	const payments = await allRows<PaymentRow>("/api/payments");
	const succeeded = payments.filter(p => p.status === "succeeded");
	const paid = orders.filter(o => o.status === "paid");
	expect(new Set(payments.map(p => p.orderId)).size).toBe(payments.length);
	expect(succeeded.map(p => p.orderId).sort()).toEqual(paid.map(o => o.id).sort());
	for (const order of paid) expect(succeeded.find(p => p.orderId === order.id)?.id).toBe(order.paymentId);

	// Every unit is in stock or held by a paid order: none oversold, none lost by the killed sagas.
	expect(await stockOf(productId)).toBe(initial - heldUnits(orders, productId));
});
