import { Runner } from "moleculer";
import { NearCacher } from "../../src/cache/near-cacher";

/**
 * moleculer-runner, which starts every node, overwrites broker options from environment
 * variables of the same name; the options the shop builds from CACHER and TRACING must
 * survive it, as they are what the variables ask for.
 */
describe("the broker options as moleculer-runner merges them", () => {
	const saved = { ...process.env };
	afterEach(() => {
		process.env = { ...saved };
	});

	function mergedByRunner(env: Record<string, string>) {
		Object.assign(process.env, env);
		let config: Record<string, unknown> = {};
		jest.isolateModules(() => {
			config = require("../../moleculer.config"); // eslint-disable-line @typescript-eslint/no-require-imports
		});
		const runner = new Runner() as unknown as { flags: object; config: Record<string, unknown>; mergeOptions(config: object): void };
		runner.flags = {};
		runner.mergeOptions(config);
		return runner.config;
	}

	it("keeps the Redis cacher with its TTL and the near cache in front of it (CACHER=redis://...)", () => {
		const { cacher } = mergedByRunner({ CACHER: "redis://127.0.0.1:6379", CACHE_TTL_SECONDS: "120" });
		// (The config was loaded in isolation, with its own copy of the class.)
		expect(cacher?.constructor.name).toBe(NearCacher.name);
		expect((cacher as NearCacher).opts).toMatchObject({ ttl: 120, redis: "redis://127.0.0.1:6379" });
	});

	it("keeps the bounded in-process cache (CACHER=Memory)", () => {
		expect(mergedByRunner({ CACHER: "Memory" }).cacher).toMatchObject({ type: "MemoryLRU" });
	});

	it("keeps the tracer's exporter and its tags, which blank secrets (TRACING=Zipkin)", () => {
		const tracing = mergedByRunner({ TRACING: "Zipkin", ZIPKIN_URL: "http://127.0.0.1:9411" }).tracing as Record<string, unknown>;
		expect(tracing).toMatchObject({ enabled: true, exporter: [{ type: "Zipkin", options: { baseURL: "http://127.0.0.1:9411" } }] });
		expect(tracing.tags).toEqual({ action: expect.any(Function), event: expect.any(Function) });
	});
});
