/**
 * What operators have of the cluster: every process, started as compose starts it,
 * answers its own health probes (HEALTH_PORT) and its Prometheus endpoint (METRICS_PORT),
 * the shop's counters move on the nodes that do the work, spans go to Zipkin (TRACING=Zipkin,
 * here a stand-in that keeps what it is sent), and `npm run cli` opens a REPL on the cluster
 * with the shop's commands.
 */
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { ComposeCluster } from "./compose-cluster";
import { startCluster } from "./running-cluster";
import { testServers } from "./servers-from-env";
import { waitFor } from "../helpers/cluster";
import { newCustomer, type Client } from "../helpers/http";

let cluster: ComposeCluster;
let api: Client;
let admin: string;

/** Zipkin's span API, as much of it as the exporter uses: it posts JSON arrays of spans. */
type ZipkinSpan = { name: string; traceId: string; localEndpoint?: { serviceName?: string }; tags?: Record<string, string> };
const zipkinSpans: ZipkinSpan[] = [];
const zipkinBodies: string[] = [];
let zipkin: Server;

beforeAll(async () => {
	zipkin = createServer((req, res) => {
		let body = "";
		req.on("data", chunk => (body += chunk));
		req.on("end", () => {
			if (req.url === "/api/v2/spans") {
				zipkinBodies.push(body);
				zipkinSpans.push(...(JSON.parse(body) as ZipkinSpan[]));
			}
			res.writeHead(202).end();
		});
	});
	await new Promise<void>(resolve => zipkin.listen(0, "127.0.0.1", resolve));
	const zipkinUrl = `http://127.0.0.1:${(zipkin.address() as AddressInfo).port}`;
	({ cluster, api, adminToken: admin } = await startCluster({}, undefined, { TRACING: "Zipkin", ZIPKIN_URL: zipkinUrl }));
});
afterAll(async () => {
	await cluster?.stopAll();
	zipkin?.close();
});

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

it("counts orders on the orders node and a refused reservation on the catalog node", async () => {
	const product = await api.post("/api/products", { name: "Scraped kettle", price: 3100, currency: "EUR", category: "tests", stock: 1 }, { token: admin });
	const { token } = await newCustomer(api);
	const card = { method: "card", card: { number: "4242424242424242", expMonth: 12, expYear: new Date().getFullYear() + 2, cvc: "123" } };
	const order = () => api.post("/api/orders", { items: [{ productId: product.body.id, quantity: 1 }], payment: card }, { token });
	expect((await order()).status).toBe(201);
	expect((await order()).status).toBe(409);

	expect(await metricsOf("orders")).toMatch(/^moleculer_request_total\{[^}]*action="orders\.create"[^}]*\} [1-9]/m);
	expect(await metricsOf("catalog")).toMatch(/^shop_stock_reservations_refused_total\{[^}]*\} 1$/m);
});

it("sends the spans of a request, across its services, to Zipkin with TRACING=Zipkin, and no password in them", async () => {
	const password = "zipkin-never-sees-1";
	const registered = await api.post("/api/auth/register", { email: `traced-${Date.now()}@example.com`, password, name: "Traced" });
	expect(registered.status).toBe(201);

	// The exporter sends what it has every 5 s.
	const spans = await waitFor(
		() => {
			const gateway = zipkinSpans.find(span => span.name === "POST /api/auth/register");
			const action = gateway && zipkinSpans.find(span => span.traceId === gateway.traceId && span.name === "action 'users.register'");
			return action ? zipkinSpans.filter(span => span.traceId === gateway.traceId) : undefined;
		},
		"the register request's spans in Zipkin",
		20_000,
	);
	expect(spans.map(span => span.localEndpoint?.serviceName)).toEqual(expect.arrayContaining(["api", "users"]));
	expect(zipkinBodies.join("")).not.toContain(password);
});

it("opens a REPL on the cluster (npm run cli) whose shop commands show orders and stock", async () => {
	const product = await api.post("/api/products", { name: "Console lamp", price: 4200, currency: "USD", category: "tests", stock: 7 }, { token: admin });
	// The compiled CLI, as `docker compose exec api node dist/src/repl/cli.js` runs it.
	const cli = spawn(process.execPath, [path.join(__dirname, "../../dist/src/repl/cli.js")], {
		env: {
			PATH: process.env.PATH,
			HOME: process.env.HOME,
			TRANSPORTER: testServers().natsUrl,
			NAMESPACE: cluster.namespace,
			LOGLEVEL: "warn",
			NODE_ENV: "production",
			JWT_SECRET: "unused-by-the-cli",
		},
		stdio: ["pipe", "pipe", "pipe"],
	});
	let output = "";
	cli.stdout.on("data", chunk => (output += chunk));
	cli.stderr.on("data", chunk => (output += chunk));
	const exited = new Promise<number | null>(resolve => cli.once("exit", resolve));
	try {
		await waitFor(() => (output.includes("shop $") ? true : undefined), "the REPL prompt", 30_000);
		cli.stdin.write(`stock ${product.body.id}\n`);
		await waitFor(() => (output.includes("Console lamp") ? true : undefined), "the stock command");
		expect(output).toMatch(/Console lamp\s+7\s+\$42\.00\s+active/);
		cli.stdin.write("orders paid\n");
		await waitFor(() => (/\d+ paid orders?/.test(output) ? true : undefined), "the orders command");
		cli.stdin.write("quit\n");
		expect(await exited).toBe(0);
	} finally {
		cli.kill();
	}
});
