/**
 * Every process of the cluster, started as compose starts it, answers its own health
 * probes (HEALTH_PORT) and its Prometheus endpoint (METRICS_PORT), and the shop's
 * counters move on the nodes that do the work.
 */
import type { ComposeCluster } from "./compose-cluster";
import { startCluster } from "./running-cluster";
import { waitFor } from "../helpers/cluster";
import { newCustomer, type Client } from "../helpers/http";

let cluster: ComposeCluster;
let api: Client;
let admin: string;

beforeAll(async () => {
	({ cluster, api, adminToken: admin } = await startCluster({}));
});
afterAll(() => cluster?.stopAll());

const metricsOf = async (service: string) => (await fetch(`http://127.0.0.1:${cluster.of(service)[0].ports.METRICS_PORT}/metrics`)).text();

it("gives every service process a health port that is live and ready", async () => {
	expect(cluster.instances.length).toBeGreaterThanOrEqual(8);
	for (const instance of cluster.instances) {
		const base = `http://127.0.0.1:${instance.ports.HEALTH_PORT}`;
		expect((await fetch(`${base}/live`)).status).toBe(200);
		const ready = await waitFor(async () => {
			const res = await fetch(`${base}/ready`);
			return res.status === 200 ? ((await res.json()) as { nodeID: string; checks: Record<string, boolean> }) : undefined;
		}, `${instance.nodeID} ready`);
		expect(ready.nodeID).toBe(instance.nodeID);
		expect(ready.checks).toMatchObject({ broker: true, transporter: true });
		if (instance.service === "orders") expect(ready.checks).toMatchObject({ "store:orders": true });
		if (instance.service === "notifications") expect(ready.checks).toMatchObject({ "events:notifications": true });
	}
});

it("gives every service process a Prometheus endpoint labelled with its node", async () => {
	for (const instance of cluster.instances) {
		const page = await (await fetch(`http://127.0.0.1:${instance.ports.METRICS_PORT}/metrics`)).text();
		expect(page).toContain(`nodeID="${instance.nodeID}"`);
		expect(page).toContain("moleculer_node_type");
	}
});

it("counts an order on the orders node and its charge on the payments node", async () => {
	const product = await api.post("/api/products", { name: "Scraped kettle", price: 3100, currency: "EUR", category: "tests", stock: 5 }, { token: admin });
	const { token } = await newCustomer(api);
	const card = { method: "card", card: { number: "4242424242424242", expMonth: 12, expYear: new Date().getFullYear() + 2, cvc: "123" } };
	expect((await api.post("/api/orders", { items: [{ productId: product.body.id, quantity: 1 }], payment: card }, { token })).status).toBe(201);

	expect(await metricsOf("orders")).toMatch(/^shop_orders_total\{[^}]*outcome="paid"[^}]*\} 1$/m);
	expect(await metricsOf("payments")).toMatch(/^shop_payments_total\{[^}]*outcome="succeeded"[^}]*\} 1$/m);
});
