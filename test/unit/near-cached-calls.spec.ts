import { EventEmitter, once } from "node:events";
import { Cachers, ServiceBroker, type Context } from "moleculer";
import { NearCachedCalls } from "../../mixins/near-cached-calls.mixin";
import { NearCacher } from "../../src/cache/near-cacher";

/**
 * A gateway node keeps near the answers of cached actions it calls on another node. Two
 * brokers over Moleculer's in-memory transporter; the gateway's Redis is never reached
 * (its commands answer "nothing there"): what it keeps near is what these tests are about.
 */
describe("cached answers of other nodes, kept near by the gateway", () => {
	let now = 0;
	let price = 100;
	let release: (() => void) | undefined;
	const served = jest.fn();
	const cleansHeard = new EventEmitter();
	let catalog: ServiceBroker;
	let gateway: ServiceBroker;
	let cacher: NearCacher;

	beforeAll(() => {
		jest.spyOn(Cachers.Redis.prototype, "get").mockResolvedValue(null);
		jest.spyOn(Cachers.Redis.prototype, "set").mockResolvedValue(undefined);
		jest.spyOn(Cachers.Redis.prototype, "clean").mockResolvedValue(undefined);
	});
	afterAll(() => jest.restoreAllMocks());

	async function start(options: { gatewayHearsCleans: boolean }): Promise<void> {
		const namespace = `near-${Math.random()}`;
		catalog = new ServiceBroker({ namespace, nodeID: "catalog", logger: false, transporter: "Fake" });
		catalog.createService({
			name: "catalog",
			actions: {
				get: {
					cache: { keys: ["id"] },
					async handler(ctx: Context<{ id: string }>) {
						served(ctx.params.id);
						const answer = { id: ctx.params.id, price };
						// A test may hold the answer back, to change the data while it is on its way.
						if (release) await new Promise<void>(resolve => (release = resolve));
						return answer;
					},
				},
				stock: { handler: () => ({ stock: 3 }) },
			},
		});
		// ioredis connects on the first command only, and the commands are replaced above.
		cacher = new NearCacher({ redis: { lazyConnect: true }, ttl: 300, near: { maxEntries: 100, ttlSeconds: 5, now: () => now } });
		gateway = new ServiceBroker({ namespace, nodeID: "gateway", logger: false, transporter: "Fake", cacher });
		gateway.createService({ name: "api", mixins: options.gatewayHearsCleans ? [NearCachedCalls] : [] });
		// Hears the cleans beside the api service, in the same dispatch: a test waits for it.
		gateway.createService({ name: "probe", events: { "cache.clean.*": () => void cleansHeard.emit("clean") } });
		await Promise.all([catalog.start(), gateway.start()]);
		// Each node knows the other's services, and the catalog whom its broadcasts go to.
		await Promise.all([gateway.waitForServices(["catalog"]), catalog.waitForServices(["api", "probe"])]);
	}

	/** Broadcasts a clean from the catalog, as its db mixin does after a change, and waits until the gateway heard it. */
	async function clean(payload?: { match: string[] }): Promise<void> {
		const heard = once(cleansHeard, "clean");
		await catalog.broadcast("cache.clean.catalog", payload);
		await heard;
		// Every handler of that dispatch has run by the next turn.
		await new Promise(resolve => setImmediate(resolve));
	}

	async function changePrice(to: number): Promise<void> {
		price = to;
		await clean();
	}

	beforeEach(() => {
		now = 1_000_000;
		price = 100;
		release = undefined;
		served.mockClear();
	});
	afterEach(async () => {
		await Promise.all([gateway.stop(), catalog.stop()]);
		(cacher.client as { disconnect(): void }).disconnect();
	});

	it("answers a second read from memory, and the catalog's answer again after a change", async () => {
		await start({ gatewayHearsCleans: true });
		expect(await gateway.call("catalog.get", { id: "p1" })).toEqual({ id: "p1", price: 100 });
		expect(await gateway.call("catalog.get", { id: "p1" })).toEqual({ id: "p1", price: 100 });
		expect(served).toHaveBeenCalledTimes(1);

		await changePrice(120);
		expect(await gateway.call("catalog.get", { id: "p1" })).toEqual({ id: "p1", price: 120 });
		expect(served).toHaveBeenCalledTimes(2);
	});

	it("empties only the answers a change names: another product's stays", async () => {
		await start({ gatewayHearsCleans: true });
		await Promise.all(["p1", "p2"].map(id => gateway.call("catalog.get", { id })));
		price = 120;
		const p1 = cacher.getCacheKey({ name: "catalog.get" } as unknown as string, { keys: ["id"] }, { params: { id: "p1" }, meta: {} } as Context);
		await clean({ match: [p1, "catalog.list**"] });

		expect(await gateway.call("catalog.get", { id: "p1" })).toEqual({ id: "p1", price: 120 });
		expect(await gateway.call("catalog.get", { id: "p2" })).toEqual({ id: "p2", price: 100 });
		expect(served.mock.calls.flat()).toEqual(["p1", "p2", "p1"]);
	});

	it("keeps an answer no longer than the near TTL, should a change's broadcast be lost", async () => {
		await start({ gatewayHearsCleans: true });
		await gateway.call("catalog.get", { id: "p1" });
		price = 120;
		now += 5_001;
		expect(await gateway.call("catalog.get", { id: "p1" })).toEqual({ id: "p1", price: 120 });
	});

	it("does not keep an answer that was on its way when the data changed", async () => {
		await start({ gatewayHearsCleans: true });
		release = () => undefined;
		const read = gateway.call("catalog.get", { id: "p1" });
		await new Promise(resolve => setTimeout(resolve, 20));
		await changePrice(120);
		release!();
		expect(await read).toEqual({ id: "p1", price: 100 });
		release = undefined;
		expect(await gateway.call("catalog.get", { id: "p1" })).toEqual({ id: "p1", price: 120 });
	});

	it("asks the catalog every time for a call with $cache: false, and for an action that is not cached", async () => {
		await start({ gatewayHearsCleans: true });
		await gateway.call("catalog.get", { id: "p1" }, { meta: { $cache: false } });
		await gateway.call("catalog.get", { id: "p1" }, { meta: { $cache: false } });
		expect(served).toHaveBeenCalledTimes(2);
		expect(await gateway.call("catalog.stock")).toEqual({ stock: 3 });
	});

	it("keeps nothing near on a node that does not hear the cleans", async () => {
		await start({ gatewayHearsCleans: false });
		await gateway.call("catalog.get", { id: "p1" });
		await gateway.call("catalog.get", { id: "p1" });
		expect(served).toHaveBeenCalledTimes(2);
	});
});
