/**
 * Load through the gateway, on the embedded shop (one process, no transporter, NeDB in
 * memory). Each scenario is compared with a baseline measured in the same run: GET
 * /health, which crosses the gateway and no service. The ratios travel between machines;
 * the raw numbers do not.
 *
 *   npm run bench                 # 10 s per scenario
 *   BENCH_SECONDS=3 npm run bench
 */
import autocannon from "autocannon";
import { adminToken, client, newCustomer } from "../test/helpers/http";

process.env.NODE_ENV ??= "test";
process.env.JWT_SECRET ??= "bench-secret";
process.env.ADMIN_EMAIL ??= "admin@shop.bench";
process.env.ADMIN_PASSWORD ??= "bench-admin-password";
process.env.AUTH_RATE_LIMIT ??= "1000000";
process.env.LOGLEVEL ??= "error";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);

type Scenario = { name: string; method: "GET" | "POST"; path: string; token?: string; body?: unknown };
type Result = { name: string; rps: number; p50: number; p99: number; errors: number; non2xx: number };

async function run(url: string, scenario: Scenario): Promise<Result> {
	const result = await autocannon({
		url: url + scenario.path,
		method: scenario.method,
		connections: CONNECTIONS,
		duration: SECONDS,
		headers: {
			...(scenario.token ? { authorization: `Bearer ${scenario.token}` } : {}),
			...(scenario.body ? { "content-type": "application/json" } : {}),
		},
		body: scenario.body ? JSON.stringify(scenario.body) : undefined,
	});
	return {
		name: scenario.name,
		rps: Math.round(result.requests.average),
		p50: result.latency.p50,
		p99: result.latency.p99,
		errors: result.errors + result.timeouts,
		non2xx: result.non2xx,
	};
}

async function main(): Promise<void> {
	// Loaded after the environment is set: the services read it when they load.
	const { startShop } = await import("../test/helpers/cluster");
	const shop = await startShop();
	try {
		const api = client(shop.url);
		const admin = await adminToken(api);
		const product = await api.post(
			"/api/products",
			{ name: "Bench mug", description: "for load", price: 900, currency: "USD", category: "bench", stock: 10_000_000 },
			{ token: admin },
		);
		const { token } = await newCustomer(api, "Bench");
		const order = { items: [{ productId: product.body.id, quantity: 1 }], payment: { method: "card", card: { number: "4242424242424242", expMonth: 12, expYear: new Date().getFullYear() + 2, cvc: "123" } } };

		const scenarios: Scenario[] = [
			{ name: "baseline: GET /health", method: "GET", path: "/health" },
			{ name: "GET /api/products/:id (cached)", method: "GET", path: `/api/products/${product.body.id}` },
			{ name: "GET /api/products?search=mug", method: "GET", path: "/api/products?search=mug" },
			{ name: "GET /api/users/me (token check)", method: "GET", path: "/api/users/me", token },
			{ name: "POST /api/orders (saga)", method: "POST", path: "/api/orders", token, body: order },
		];

		process.stderr.write(`${scenarios.length} scenarios, ${SECONDS} s each, ${CONNECTIONS} connections\n`);
		// Warm up the JIT and the caches, so that the first scenario is not measured cold.
		await autocannon({ url: `${shop.url}/api/products/${product.body.id}`, connections: CONNECTIONS, duration: 2 });
		const results: Result[] = [];
		for (const scenario of scenarios) {
			process.stderr.write(`  ${scenario.name}...\n`);
			results.push(await run(shop.url, scenario));
		}

		const baseline = results[0].rps;
		const rows = results.map(r => ({
			scenario: r.name,
			"req/s": r.rps,
			"of baseline": `${((r.rps / baseline) * 100).toFixed(1)}%`,
			"p50 ms": r.p50,
			"p99 ms": r.p99,
			"errors": r.errors + r.non2xx,
		}));
		console.table(rows);
		if (results.some(r => r.errors + r.non2xx > 0)) process.exitCode = 1;
	} finally {
		await shop.stop();
	}
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
