/**
 * What operators see of a node: the Prometheus endpoint with Moleculer's metrics and the
 * shop's, labelled with namespace and node, and the health probes of HEALTH_PORT.
 */
import { ServiceBroker } from "moleculer";
import { healthProbes } from "../../src/health/health-probes";
import { prometheusMetrics } from "../../src/metrics";
import { freePort } from "../cluster/servers";
import { ALL_SERVICES, freshNamespace, gatewayUrl, startNode, waitFor, waitForRoutes } from "../helpers/cluster";
import { adminToken, client, newCustomer } from "../helpers/http";

const card = (number: string) => ({ method: "card", card: { number, expMonth: 12, expYear: new Date().getFullYear() + 2, cvc: "123" } });

/** The value of one series in a Prometheus text page, 0 when the series is not there yet. */
function sample(page: string, metric: string, labels: Record<string, string>): number {
	const line = page.split("\n").find(l => l.startsWith(`${metric}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
	return line ? Number(line.split(" ").pop()) : 0;
}

describe("metrics", () => {
	let broker: ServiceBroker;
	let metricsUrl: string;
	const namespace = freshNamespace();

	beforeAll(async () => {
		const port = await freePort();
		broker = await startNode({ nodeID: "metrics-node", namespace, services: Object.keys(ALL_SERVICES), brokerOptions: { metrics: prometheusMetrics(port) } });
		metricsUrl = `http://127.0.0.1:${port}/metrics`;
		await waitForRoutes(gatewayUrl(broker));
	});
	afterAll(() => broker.stop());

	const scrape = async () => (await fetch(metricsUrl)).text();

	it("shows the counters moving after orders, labelled with namespace and node", async () => {
		const api = client(gatewayUrl(broker));
		const admin = await adminToken(api);
		const product = await api.post("/api/products", { name: "Metered lamp", price: 900, currency: "USD", category: "tests", stock: 1 }, { token: admin });
		const { token } = await newCustomer(api);
		const labels = { namespace, nodeID: "metrics-node" };
		const ordersCreate = { ...labels, action: "orders.create", caller: "api" };

		const before = await scrape();
		const order = () => api.post("/api/orders", { items: [{ productId: product.body.id, quantity: 1 }], payment: card("4242424242424242") }, { token });
		expect(await order()).toMatchObject({ status: 201 });
		expect(await order()).toMatchObject({ status: 409 });
		const after = await scrape();

		const moved = (metric: string, of: Record<string, string>) => sample(after, metric, of) - sample(before, metric, of);
		expect(moved("shop_stock_reservations_refused_total", labels)).toBe(1);
		expect(moved("moleculer_request_total", ordersCreate)).toBe(2);
		expect(moved("moleculer_request_error_total", { ...ordersCreate, errorCode: "409" })).toBe(1);

		// What the outbox published and the consumers handled, once the relay and the bus have done their part.
		await waitFor(async () => {
			const page = await scrape();
			const grew = (metric: string, of: Record<string, string>) => sample(page, metric, of) - sample(before, metric, of);
			return grew("shop_orders_total", { ...labels, outcome: "paid" }) === 1 &&
				grew("shop_payments_total", { ...labels, outcome: "succeeded" }) === 1 &&
				grew("shop_events_deliveries_total", { ...labels, type: "order.paid", group: "notifications", outcome: "handled" }) === 1
				? true
				: undefined;
		}, "the shop's order, payment and delivery counters");
	});

	it("shows Moleculer's request metrics per action next to them", async () => {
		const page = await scrape();
		expect(page).toMatch(/^moleculer_request_total\{.*action="orders\.create".*\} \d+/m);
		expect(page).toContain(`nodeID="metrics-node"`);
		expect(page).toContain("# TYPE shop_stock_reservations_refused_total counter");
	});
});

describe("health probes", () => {
	it("answer /live at once, and /ready only once the broker started and while it runs", async () => {
		const probes = healthProbes({ port: 0, host: "127.0.0.1" });
		const namespace = freshNamespace();
		const broker = new ServiceBroker({ namespace, nodeID: "probed", logger: false, transporter: "Fake", middlewares: [probes] });
		broker.createService(ALL_SERVICES.users);
		broker.createService(ALL_SERVICES.notifications);
		const url = () => `http://127.0.0.1:${probes.port()}`;
		await waitFor(() => (probes.port() ? true : undefined), "the probe port");

		expect((await fetch(`${url()}/live`)).status).toBe(200);
		const early = await fetch(`${url()}/ready`);
		expect(early.status).toBe(503);
		expect(await early.json()).toMatchObject({ status: "not ready", checks: { broker: false } });

		await broker.start();
		const ready = await fetch(`${url()}/ready`);
		expect(ready.status).toBe(200);
		expect(await ready.json()).toEqual({
			status: "ready",
			nodeID: "probed",
			checks: { broker: true, transporter: true, "store:users": true, "store:notifications": true, "events:notifications": true },
		});
		expect((await fetch(`${url()}/elsewhere`)).status).toBe(404);

		const port = probes.port();
		await broker.stop();
		await expect(fetch(`http://127.0.0.1:${port}/live`)).rejects.toThrow();
	});
});
