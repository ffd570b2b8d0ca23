/** The gateway's rate-limit counts: clock-aligned windows, shared in Redis, local while Redis is away. */
import type { ServiceBroker } from "moleculer";
import ApiGateway from "moleculer-web";
import { fixedWindow, LocalWindowCounter, rateLimitStoreFor, RedisRateLimitStore } from "../../src/gateway/rate-limit-store";

type Exec = () => Promise<[Error | null, unknown][] | null>;

/** A broker whose Redis cacher answers each transaction with `exec`, recording the commands. */
function brokerWithRedis(exec: Exec) {
	const commands: unknown[][] = [];
	const transaction = {
		incr(key: string) {
			commands.push(["incr", key]);
			return transaction;
		},
		pexpireat(key: string, at: number) {
			commands.push(["pexpireat", key, at]);
			return transaction;
		},
		exec,
	};
	const warnings: unknown[][] = [];
	const broker = {
		namespace: "shop-a",
		cacher: { client: { multi: () => transaction } },
		getLogger: () => ({ warn: (...args: unknown[]) => warnings.push(args) }),
	} as unknown as ServiceBroker;
	return { broker, commands, warnings };
}

describe("fixedWindow", () => {
	it("puts every moment of one window in the same window, ending where the next starts", () => {
		expect(fixedWindow(120_000, 60_000)).toEqual({ number: 2, resetTime: 180_000 });
		expect(fixedWindow(179_999, 60_000)).toEqual({ number: 2, resetTime: 180_000 });
		expect(fixedWindow(180_000, 60_000)).toEqual({ number: 3, resetTime: 240_000 });
	});
});

describe("LocalWindowCounter", () => {
	it("counts per key and starts again in a new window", () => {
		const counter = new LocalWindowCounter();
		const first = fixedWindow(0, 1000);
		expect([counter.inc("a", first), counter.inc("a", first), counter.inc("b", first)]).toEqual([1, 2, 1]);
		expect(counter.inc("a", fixedWindow(1000, 1000))).toBe(1);
	});
});

describe("RedisRateLimitStore", () => {
	it("counts in one Redis key per namespace, window and client, which expires after its window", async () => {
		let count = 0;
		const { broker, commands } = brokerWithRedis(async () => [
			[null, ++count],
			[null, 1],
		]);
		const store = new RedisRateLimitStore(60_000, undefined, broker);
		const before = fixedWindow(Date.now(), 60_000);

		expect(await store.inc("auth:10.0.0.1")).toBe(1);
		expect(await store.inc("auth:10.0.0.1")).toBe(2);

		const [incr, expire] = commands;
		expect(incr[1]).toMatch(/^shop-a-ratelimit:60000:\d+:auth:10\.0\.0\.1$/);
		expect(Number((incr[1] as string).split(":")[2])).toBeGreaterThanOrEqual(before.number);
		expect(expire[1]).toBe(incr[1]);
		expect(expire[2]).toBeGreaterThan(store.resetTime);
		expect(store.resetTime).toBeGreaterThan(Date.now());
	});

	it("counts in the gateway's memory while Redis fails, and says so once", async () => {
		const { broker, warnings } = brokerWithRedis(() => Promise.reject(new Error("connection refused")));
		const store = new RedisRateLimitStore(60_000, undefined, broker);
		expect([await store.inc("auth:x"), await store.inc("auth:x"), await store.inc("auth:y")]).toEqual([1, 2, 1]);
		expect(warnings).toHaveLength(1);
	});

	it("does not wait for a Redis that never answers", async () => {
		const { broker } = brokerWithRedis(() => new Promise(() => undefined));
		const store = new RedisRateLimitStore(60_000, undefined, broker);
		const started = Date.now();
		expect(await store.inc("auth:x")).toBe(1);
		expect(Date.now() - started).toBeLessThan(2000);
	});
});

describe("rateLimitStoreFor", () => {
	it("shares the counts in Redis with a Redis cacher and keeps them in memory otherwise", () => {
		expect(rateLimitStoreFor("redis://redis:6379")).toBe(RedisRateLimitStore);
		expect(rateLimitStoreFor("Memory")).toBe(ApiGateway.RateLimitStores.MemoryStore);
	});
});
