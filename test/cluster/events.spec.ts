/**
 * Durable business events over NATS JetStream between processes: what is sent while
 * notifications and analytics are down reaches them when they are back, two analytics
 * instances count each event once, and killing a consumer mid-batch loses and doubles nothing.
 */
import type { ComposeCluster } from "./compose-cluster";
import { startCluster, waitForInstances } from "./running-cluster";
import { waitFor } from "../helpers/cluster";
import { cardPayment } from "../helpers/fixtures";
import { newCustomer, type Client } from "../helpers/http";

const SCALE = { analytics: 2 };
const CARD = cardPayment();

let cluster: ComposeCluster;
let api: Client;
let admin: string;
let productId: string;

async function paidOrders(): Promise<number> {
	const res = await api.get("/api/analytics/summary", { token: admin });
	if (res.status !== 200) throw new Error(`analytics summary: ${res.status}`);
	return res.body.orders;
}

async function placeOrders(token: string, count: number): Promise<void> {
	for (let i = 0; i < count; i++) {
		const res = await api.post("/api/orders", { items: [{ productId, quantity: 1 }], payment: CARD }, { token });
		if (res.status !== 201) throw new Error(`order: ${res.status} ${JSON.stringify(res.body)}`);
	}
}

/**
 * Waits until the count reaches `expected`, then checks it stays there (nothing counted twice
 * late). Meanwhile the gateway may answer 503: the registry that reported the instances back is
 * discovery's, and the gateway's node can hear of them a moment later.
 */
async function expectPaidOrdersToSettleAt(expected: number): Promise<void> {
	await waitFor(async () => ((await paidOrders().catch(() => 0)) >= expected ? true : undefined), `${expected} paid orders in analytics`, 90_000);
	await new Promise(resolve => setTimeout(resolve, 3000));
	expect(await paidOrders()).toBe(expected);
}

async function stopAll(service: string): Promise<void> {
	await Promise.all(cluster.of(service).map(instance => cluster.stop(instance, "SIGTERM")));
}

jest.setTimeout(240_000);

beforeAll(async () => {
	({ cluster, api, adminToken: admin } = await startCluster(SCALE));
	const res = await api.post("/api/products", { name: "Event mug", price: 500, currency: "USD", category: "tests", stock: 10_000 }, { token: admin });
	productId = res.body.id;
}, 180_000);

afterAll(async () => {
	await cluster?.stopAll();
});

it("delivers the events sent while notifications and analytics were down, once each, when they are back", async () => {
	const { token } = await newCustomer(api, "Patient");
	const before = await waitFor(() => paidOrders().catch(() => undefined), "analytics");

	await stopAll("notifications");
	await stopAll("analytics");
	await placeOrders(token, 20);

	await cluster.startInstance("notifications");
	await cluster.startInstance("analytics");
	await cluster.startInstance("analytics");
	await waitForInstances(api, admin, { notifications: 1, analytics: 2 });

	const paidNotices = await waitFor(
		async () => {
			const res = await api.get("/api/notifications?pageSize=100", { token });
			const rows = (res.body?.rows ?? []) as { kind: string }[];
			const paid = rows.filter(n => n.kind === "order_paid");
			return paid.length >= 20 ? paid : undefined;
		},
		"20 order notifications",
		90_000,
	);
	expect(paidNotices).toHaveLength(20);
	await expectPaidOrdersToSettleAt(before + 20);
});

it("loses and doubles nothing when an analytics instance is killed in the middle of a batch", async () => {
	const { token } = await newCustomer(api);
	const before = await paidOrders();

	await stopAll("analytics");
	await placeOrders(token, 30);

	const victim = await cluster.startInstance("analytics");
	await waitFor(
		() =>
			paidOrders()
				.catch(() => undefined)
				.then(n => (n !== undefined && n > before ? n : undefined)),
		"analytics to start on the backlog",
		60_000,
	);
	await cluster.stop(victim, "SIGKILL");

	await cluster.startInstance("analytics");
	await expectPaidOrdersToSettleAt(before + 30);
});
