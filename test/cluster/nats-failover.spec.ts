/**
 * The shop on a three-node NATS JetStream cluster, its event streams replicated three times
 * (EVENTS_REPLICAS=3): kill -9 of the NATS node that leads the event stream, while orders
 * flow, loses no acknowledged order and no event the stream had stored; the two survivors
 * go on storing events (what could not be published meanwhile stays in the outbox until it
 * is), and every paid order's event is stored once and reaches each consuming service once.
 */
import { connect, type NatsConnection, type StreamInfo } from "nats";
import type { BusinessEvent } from "../../src/events";
import type { ComposeCluster } from "./compose-cluster";
import { startNatsCluster, type NatsCluster } from "./nats-cluster";
import { sleep, startCluster, steadyLoad } from "./running-cluster";
import { testServers } from "./servers-from-env";
import { waitFor } from "../helpers/cluster";
import { cardPayment } from "../helpers/fixtures";
import { newCustomer, type Client, type Reply } from "../helpers/http";

const REPLICAS = 3;
const CARD = cardPayment();

let nats: NatsCluster;
let cluster: ComposeCluster;
let api: Client;
let admin: string;
let observer: NatsConnection;

type OrderRow = { id: string; status: string };

/** Every row of a paged list, as `token` sees it (the admin by default). */
async function allRows<T>(path: string, token = admin): Promise<T[]> {
	const rows: T[] = [];
	for (let page = 1; ; page++) {
		const res = await api.get(`${path}${path.includes("?") ? "&" : "?"}page=${page}&pageSize=100`, { token });
		rows.push(...res.body.rows);
		if (page >= res.body.totalPages) return rows;
	}
}

/** Stream and subject names of the test cluster's namespace, as the bus makes them. */
const ns = () => cluster.namespace.replace(/[^\w-]/g, "_");
const STREAM = () => `${ns()}_events`;
const PAID_SUBJECT = () => `${ns()}.events.order.paid`;

/** The event stream as JetStream reports it, with a count per subject. */
async function eventStream(): Promise<StreamInfo> {
	const jsm = await observer.jetstreamManager();
	return jsm.streams.info(STREAM(), { subjects_filter: ">" });
}

/** Every event the stream holds on `subject`, read message by message from the stream's leader. */
async function storedEvents(subject: string): Promise<BusinessEvent[]> {
	const jsm = await observer.jetstreamManager();
	const { state } = await eventStream();
	const events: BusinessEvent[] = [];
	for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
		const message = await jsm.streams.getMessage(STREAM(), { seq });
		if (message.subject === subject) events.push(message.json<BusinessEvent>());
	}
	return events;
}

jest.setTimeout(300_000);

beforeAll(async () => {
	nats = await startNatsCluster(REPLICAS);
	({ cluster, api, adminToken: admin } = await startCluster({ orders: 2 }, { ...testServers(), natsUrl: nats.url }, { EVENTS_REPLICAS: String(REPLICAS) }));
	observer = await connect({ servers: nats.nodes.map(n => n.url), maxReconnectAttempts: -1 });
}, 240_000);

afterAll(async () => {
	await observer?.close();
	await cluster?.stopAll();
	await nats?.stop();
});

it("keeps the event stream on all three NATS nodes", async () => {
	// The stream exists once a service has opened the bus; products are the first events.
	await api.post("/api/products", { name: "Replicated mug", price: 500, currency: "USD", category: "tests", stock: 1 }, { token: admin });
	const info = await eventStream();
	expect(info.config.num_replicas).toBe(REPLICAS);
	const holders = [info.cluster!.leader, ...(info.cluster!.replicas ?? []).map(r => r.name)];
	expect(holders.sort()).toEqual(nats.nodes.map(n => n.name).sort());
});

it("loses no acknowledged order and no event, and delivers each event once, when the stream's leader node is killed", async () => {
	const created = await api.post("/api/products", { name: "Failover mug", price: 700, currency: "USD", category: "tests", stock: 10_000 }, { token: admin });
	const productId = created.body.id as string;
	const buyers = await Promise.all(Array.from({ length: 4 }, (_, i) => newCustomer(api, `Buyer ${i}`)));
	let seq = 0;

	/** A client that retries a failed request with the same Idempotency-Key, as it should. */
	async function placeWithRetries(): Promise<{ reply: Reply | null }> {
		const n = seq++;
		const key = `nats-failover-${n}`;
		for (let attempt = 0; attempt < 8; attempt++) {
			const reply = await api
				.post("/api/orders", { items: [{ productId, quantity: 1 }], payment: CARD }, { token: buyers[n % 4].token, headers: { "idempotency-key": key } })
				.catch(() => null);
			if (reply && reply.status < 500) return { reply };
			await sleep(500);
		}
		return { reply: null };
	}

	const leader = (await eventStream()).cluster!.leader!;
	const victim = nats.nodes.find(n => n.name === leader)!;
	let storedBeforeKill = 0;
	const killing = (async () => {
		await sleep(2000);
		storedBeforeKill = (await eventStream()).state.subjects?.[PAID_SUBJECT()] ?? 0;
		await nats.kill(victim);
		// Orders keep coming while the two survivors elect a new leader, and after: longer than
		// a request held up by the dead node may take (REQUEST_TIMEOUT, 10 s), so that orders
		// placed after the election are among them.
		await sleep(20_000);
	})();
	const results = await steadyLoad(4, placeWithRetries, killing, 90_000);

	expect(results.length).toBeGreaterThan(10);
	expect(results.filter(r => r.reply === null)).toEqual([]);
	const acknowledged = results.filter(r => r.reply!.status === 201 || (r.reply!.status === 200 && r.reply!.body.status === "paid"));
	expect(acknowledged.length).toBeGreaterThan(0);

	await waitFor(async () => ((await allRows<OrderRow>("/api/orders?status=pending")).length === 0 ? true : undefined), "no pending order", 60_000);
	const paid = new Map((await allRows<OrderRow>("/api/orders?status=paid")).map(o => [o.id, o]));
	for (const { reply } of acknowledged) expect(paid.has(reply!.body.id)).toBe(true);

	// What the stream had stored before its leader died is still there, the survivors went on
	// storing new events, and the relays published what waited in the outboxes: one order.paid
	// per paid order, none twice.
	await waitFor(
		async () => (((await eventStream()).state.subjects?.[PAID_SUBJECT()] ?? 0) >= paid.size ? true : undefined),
		"an order.paid in the stream for every paid order",
		60_000,
	);
	const stored = await storedEvents(PAID_SUBJECT());
	expect(storedBeforeKill).toBeGreaterThan(0);
	expect(stored.length).toBeGreaterThan(storedBeforeKill);
	expect(new Set(stored.map(e => e.id)).size).toBe(stored.length);
	expect(stored.map(e => (e.data as { orderId: string }).orderId).sort()).toEqual([...paid.keys()].sort());

	// Each consuming service got each stored event once (a consumer whose pull went to the dead
	// node asks the new leader when that pull expires).
	const noticesPerBuyer = () =>
		Promise.all(buyers.map(async buyer => (await allRows<{ kind: string }>("/api/notifications", buyer.token)).filter(n => n.kind === "order_paid").length));
	const countedOrders = async () => (await api.get("/api/analytics/summary", { token: admin })).body.orders as number;
	await waitFor(async () => ((await countedOrders()) >= stored.length ? true : undefined), "analytics to count every stored event", 90_000);
	await waitFor(
		async () => ((await noticesPerBuyer()).reduce((a, b) => a + b, 0) >= stored.length ? true : undefined),
		"a notification for every stored event",
		90_000,
	);
	await sleep(3000);
	expect(await countedOrders()).toBe(stored.length);
	const storedPerBuyer = buyers.map(buyer => stored.filter(e => (e.data as { userId: string }).userId === buyer.user.id).length);
	expect(await noticesPerBuyer()).toEqual(storedPerBuyer);

	// The killed node comes back and catches up.
	await nats.restart(victim);
});
