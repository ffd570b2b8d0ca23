import { Cachers, ServiceBroker, Utils } from "moleculer";
import { NearCacher } from "../../src/cache/near-cacher";

/**
 * The near layer in front of Redis. Redis itself is a Map here (the Redis cacher's own
 * methods are replaced), so these tests need no server; the cluster tier runs it on Redis.
 */
describe("the near cache in front of Redis", () => {
	const redis = new Map<string, unknown>();
	const redisGets = jest.fn();
	let broker: ServiceBroker;
	let cacher: NearCacher;
	let now = 0;

	beforeAll(() => {
		jest.spyOn(Cachers.Redis.prototype, "get").mockImplementation(async key => {
			redisGets(key);
			return (redis.get(key) as Record<string, unknown>) ?? null;
		});
		jest.spyOn(Cachers.Redis.prototype, "set").mockImplementation(async (key, data) => void redis.set(key, structuredClone(data)));
		jest.spyOn(Cachers.Redis.prototype, "del").mockImplementation(async keys => [keys].flat().forEach(key => redis.delete(key)));
		jest.spyOn(Cachers.Redis.prototype, "clean").mockImplementation(async (match = "**") => {
			for (const key of [...redis.keys()]) if ([match].flat().some(pattern => Utils.match(key, pattern))) redis.delete(key);
		});
	});
	afterAll(() => jest.restoreAllMocks());

	beforeEach(() => {
		redis.clear();
		redisGets.mockClear();
		now = 1_000_000;
		// ioredis connects on the first command only, and the Redis commands are replaced above.
		cacher = new NearCacher({ redis: { lazyConnect: true }, ttl: 300, near: { maxEntries: 100, ttlSeconds: 5, now: () => now } });
		broker = new ServiceBroker({ logger: false, cacher });
	});
	afterEach(() => {
		(cacher.client as { disconnect(): void }).disconnect();
	});

	it("answers a hot key from memory, and from Redis once the near entry is older than its TTL", async () => {
		redis.set("catalog.get:p1", { id: "p1", price: 100 });
		expect(await cacher.get("catalog.get:p1")).toEqual({ id: "p1", price: 100 });
		expect(await cacher.get("catalog.get:p1")).toEqual({ id: "p1", price: 100 });
		expect(redisGets).toHaveBeenCalledTimes(1);

		redis.set("catalog.get:p1", { id: "p1", price: 120 });
		now += 5_001;
		expect(await cacher.get("catalog.get:p1")).toEqual({ id: "p1", price: 120 });
		expect(redisGets).toHaveBeenCalledTimes(2);
	});

	it("keeps what it sets in both layers, and a clean empties both", async () => {
		await cacher.set("catalog.get:p1", { id: "p1" });
		await cacher.set("users.get:u1", { id: "u1" });
		expect(redis.has("catalog.get:p1")).toBe(true);
		expect(await cacher.get("catalog.get:p1")).toEqual({ id: "p1" });
		expect(redisGets).not.toHaveBeenCalled();

		await cacher.clean("catalog.**");
		expect(redis.has("catalog.get:p1")).toBe(false);
		expect(await cacher.get("catalog.get:p1")).toBeNull();
		expect(await cacher.get("users.get:u1")).toEqual({ id: "u1" });
	});

	it("empties only its own memory when another node changed the data (cleanLocal)", async () => {
		redis.set("catalog.get:p1", { id: "p1", price: 100 });
		await cacher.get("catalog.get:p1");
		// The writer cleaned Redis and broadcast the clean; this node hears it.
		redis.set("catalog.get:p1", { id: "p1", price: 120 });
		cacher.cleanLocal("catalog.**");
		expect(await cacher.get("catalog.get:p1")).toEqual({ id: "p1", price: 120 });
		expect(redis.has("catalog.get:p1")).toBe(true);
	});

	it("does not keep near what Redis answered after a clean that came during the read", async () => {
		redis.set("catalog.get:p1", { id: "p1", price: 100 });
		const reading = cacher.get("catalog.get:p1");
		cacher.cleanLocal("catalog.**");
		expect(await reading).toEqual({ id: "p1", price: 100 });

		redis.set("catalog.get:p1", { id: "p1", price: 120 });
		expect(await cacher.get("catalog.get:p1")).toEqual({ id: "p1", price: 120 });
	});

	it("keeps an answer with a shorter TTL near no longer than that TTL", async () => {
		await cacher.set("users.tokenHolder:u1", { id: "u1" }, 1);
		redis.delete("users.tokenHolder:u1");
		now += 1_001;
		expect(await cacher.get("users.tokenHolder:u1")).toBeNull();
	});

	it("forgets what it kept near when the transporter connects again: it may have missed cleans", async () => {
		redis.set("catalog.get:p1", { id: "p1", price: 100 });
		await cacher.get("catalog.get:p1");
		redis.set("catalog.get:p1", { id: "p1", price: 120 });
		broker.localBus.emit("$transporter.connected");
		expect(await cacher.get("catalog.get:p1")).toEqual({ id: "p1", price: 120 });
	});
});
