/**
 * The observability side of docker-compose.yml, as far as it can be checked without
 * Docker: health checks and metrics ports on every shop service, the observability
 * profile's Prometheus scraping every one of them, Grafana's provisioning and dashboard
 * naming only metrics the nodes export.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { ServiceBroker } from "moleculer";
import { parse } from "yaml";
import { healthProbes } from "../../src/health/health-probes";
import { ShopMetricsMiddleware } from "../../src/metrics";

const ROOT = path.resolve(__dirname, "../..");
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");

type Service = {
	build?: unknown;
	image?: string;
	profiles?: string[];
	environment?: Record<string, string>;
	healthcheck?: { test: string[] };
	volumes?: string[];
};
const compose = parse(read("docker-compose.yml"), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const shopServices = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
const profiled = (name: string) => compose.services[name]?.profiles ?? [];

/** The host file of a compose bind mount that ends in `target`. */
function mountedFile(service: string, target: string): string {
	const volume = compose.services[service].volumes!.find(v => v.split(":")[1] === target);
	if (!volume) throw new Error(`${service} mounts nothing at ${target}`);
	return volume.split(":")[0];
}

describe("every shop service in compose", () => {
	it("exports metrics on 3030 and answers probes on 3001", () => {
		expect(shopServices.length).toBeGreaterThanOrEqual(8);
		for (const [, service] of shopServices) expect(service.environment).toMatchObject({ METRICS_PORT: "3030", HEALTH_PORT: "3001" });
	});

	it("is health-checked with node (the image has no curl) against its readiness probe", async () => {
		const probes = healthProbes({ port: 0, host: "127.0.0.1" });
		const broker = new ServiceBroker({ logger: false, middlewares: [probes] });
		const check = async () => {
			const [, ...command] = shopServices[0][1].healthcheck!.test;
			expect(command[0]).toBe("node");
			const run = promisify(execFile)(process.execPath, command.slice(1), { env: { ...process.env, HEALTH_PORT: String(probes.port()) } });
			return run.then(
				() => 0,
				(err: { code: number }) => err.code,
			);
		};
		for (const [, service] of shopServices) expect(service.healthcheck!.test).toEqual(shopServices[0][1].healthcheck!.test);
		try {
			while (!probes.port()) await new Promise(resolve => setTimeout(resolve, 10));
			expect(await check()).toBe(1);
			await broker.start();
			expect(await check()).toBe(0);
		} finally {
			await broker.stop();
		}
	});

	it("sends traces to the profile's Zipkin only when TRACING is set", () => {
		for (const [, service] of shopServices)
			expect(service.environment).toMatchObject({ TRACING: "${TRACING:-}", ZIPKIN_URL: "${ZIPKIN_URL:-http://zipkin:9411}" });
	});
});

describe("the observability profile", () => {
	it("adds Prometheus, Grafana and Zipkin, and only under that profile", () => {
		for (const name of ["prometheus", "grafana", "zipkin"]) expect(profiled(name)).toEqual(["observability"]);
		for (const [name] of shopServices) expect(profiled(name)).toEqual([]);
		for (const name of ["nats", "mongo", "redis", "traefik"]) expect(profiled(name)).toEqual([]);
	});

	it("publishes its consoles on the host's loopback only", () => {
		for (const name of ["prometheus", "grafana", "zipkin"]) {
			const ports = (compose.services[name] as { ports?: string[] }).ports ?? [];
			expect(ports.length).toBeGreaterThan(0);
			for (const port of ports) expect(port).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
		}
	});

	it("has Prometheus scrape every shop service, each on its metrics port", () => {
		const config = parse(read(mountedFile("prometheus", "/etc/prometheus/prometheus.yml"))) as {
			scrape_configs: { job_name: string; dns_sd_configs?: { names: string[]; port: number }[] }[];
		};
		const shop = config.scrape_configs.find(job => job.job_name === "shop")!;
		const targets = shop.dns_sd_configs!.flatMap(sd => sd.names.map(name => ({ name, port: sd.port })));
		for (const { name, port } of targets) {
			expect(compose.services[name]?.build).toBeDefined();
			expect(compose.services[name].environment!.METRICS_PORT).toBe(String(port));
		}
		expect(targets.map(t => t.name).sort()).toEqual(shopServices.map(([name]) => name).sort());
	});

	it("provisions Grafana with Prometheus and Zipkin of the same compose file, and the shop's dashboard", () => {
		const provisioning = mountedFile("grafana", "/etc/grafana/provisioning");
		const { datasources } = parse(read(path.join(provisioning, "datasources/datasources.yml"))) as { datasources: { type: string; url: string }[] };
		for (const { url } of datasources) {
			const { hostname, port } = new URL(url);
			expect(compose.services[hostname]).toBeDefined();
			expect(profiled(hostname)).toEqual(["observability"]);
			expect(port).toMatch(/^\d+$/);
		}
		expect(datasources.map(d => d.type).sort()).toEqual(["prometheus", "zipkin"]);

		const { providers } = parse(read(path.join(provisioning, "dashboards/dashboards.yml"))) as { providers: { options: { path: string } }[] };
		const dashboards = mountedFile("grafana", providers[0].options.path);
		expect(existsSync(path.join(ROOT, dashboards, "shop.json"))).toBe(true);
		expect(compose.services.grafana.environment!.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(`${providers[0].options.path}/shop.json`);
	});

	it("has a dashboard whose queries name only metrics the shop's nodes export", async () => {
		const dashboard = JSON.parse(read("observability/grafana/dashboards/shop.json")) as {
			panels: { title: string; targets: { expr: string; datasource: { uid: string } }[] }[];
		};
		const exprs = dashboard.panels.flatMap(panel => panel.targets.map(target => target.expr));
		expect(dashboard.panels.map(p => p.title).join(" ")).toMatch(/Requests.*Latency.*Orders.*events.*node/is);

		// (Moleculer leaves out the process metrics under NODE_ENV=test; the nodes have them.)
		const broker = new ServiceBroker({ logger: false, metrics: { enabled: true, collectProcessMetrics: true }, middlewares: [ShopMetricsMiddleware] });
		await broker.start();
		const exported = new Set(
			(broker.metrics.list() as unknown as { name: string; type: string }[]).flatMap(({ name, type }) => {
				const prom = name.replace(/[.-]/g, "_");
				return type === "histogram" ? [prom, `${prom}_bucket`, `${prom}_sum`, `${prom}_count`] : [prom];
			}),
		);
		await broker.stop();

		const named = exprs.flatMap(expr => expr.match(/\b(?:moleculer|shop|process|os)_[a-z0-9_]+/g) ?? []);
		expect(named.length).toBeGreaterThanOrEqual(exprs.length);
		expect(named.filter(name => !exported.has(name))).toEqual([]);
		for (const name of ["shop_orders_total", "shop_events_deliveries_total", "moleculer_request_time_bucket"]) expect(named).toContain(name);
	});
});
