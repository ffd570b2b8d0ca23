import { ServiceBroker, type Context, type Service } from "moleculer";
import { DbMixin, type DbMethods } from "../../mixins/db.mixin";

/**
 * A change to a cached service's data cleans the shared cache before it tells the other
 * nodes: a node that emptied its own (near) cache while the shared one still held the old
 * answer could read that answer again and keep it. A clean that the shared cache refuses
 * does not fail the change, which is made; it is tried again until it gets through.
 */
describe("the db mixin's cache clean", () => {
	const broker = new ServiceBroker({ logger: false, cacher: "MemoryLRU" });
	broker.createService({ name: "things", mixins: [DbMixin({ collection: "things", cached: true, fields: { name: { type: String } } })] });
	beforeAll(() => broker.start());
	afterAll(() => broker.stop());

	it("cleans the cache, then broadcasts cache.clean.<service>", async () => {
		const order: string[] = [];
		const clean = jest.spyOn(broker.cacher!, "clean").mockImplementation(async match => void order.push(`clean ${String(match)}`));
		const broadcast = jest.spyOn(broker, "broadcast").mockImplementation(async (event: string) => void order.push(`broadcast ${event}`));
		try {
			await (broker.getLocalService("things") as Service & { clearCache(): Promise<void> }).clearCache();
			expect(order).toEqual(["clean things.**", "broadcast cache.clean.things"]);
		} finally {
			clean.mockRestore();
			broadcast.mockRestore();
		}
	});

	it("answers a change that the shared cache refused to clean for, and cleans and tells the nodes again a second later", async () => {
		const things = broker.getLocalService("things") as Service & DbMethods;
		const { _id } = await things.insertEntity<{ _id: string }>({ name: "mug" });
		const events: string[] = [];
		const clean = jest
			.spyOn(broker.cacher!, "clean")
			.mockRejectedValueOnce(new Error("Redis is away"))
			.mockRejectedValueOnce(new Error("Redis is away"))
			.mockImplementation(async match => void events.push(`clean ${String(match)}`));
		const broadcast = jest.spyOn(broker, "broadcast").mockImplementation(async (event: string) => void events.push(`broadcast ${event}`));
		try {
			// Two changes while Redis is away: both answer, one retry is pending for both.
			expect(await things.updateEntities({ name: "mug" }, { $set: { name: "cup" } })).toBe(1);
			expect(await things.updateEntities({ name: "cup" }, { $set: { name: "bowl" } })).toBe(1);
			expect(events).toEqual(["broadcast cache.clean.things", "broadcast cache.clean.things"]);
			expect(await things.findEntityById<{ name: string }>(_id)).toMatchObject({ name: "bowl" });

			await new Promise(resolve => setTimeout(resolve, 1_200));
			expect(events.slice(2)).toEqual(["clean things.**", "broadcast cache.clean.things"]);
			expect(clean).toHaveBeenCalledTimes(3);
		} finally {
			clean.mockRestore();
			broadcast.mockRestore();
		}
	});
});

describe("what a change cleans", () => {
	const broker = new ServiceBroker({ logger: false, cacher: "MemoryLRU" });
	const answered = jest.fn();
	broker.createService({
		name: "things",
		mixins: [DbMixin({ collection: "things", cached: true, cleanByEntity: true, fields: { name: { type: String } } })],
		actions: {
			get: {
				cache: { keys: ["id"] },
				async handler(this: Service & DbMethods, ctx: Context<{ id: string }>) {
					answered(`get ${ctx.params.id}`);
					return this.findEntityById(ctx.params.id);
				},
			},
			list: {
				cache: { keys: ["name"] },
				async handler(this: Service & DbMethods) {
					answered("list");
					return this.findEntities({ sort: ["name"] });
				},
			},
		},
	});
	const things = () => broker.getLocalService("things") as Service & DbMethods;
	beforeAll(() => broker.start());
	afterAll(() => broker.stop());

	it("keeps the cached answers about other entities, and cleans the changed one's and every list", async () => {
		const a = await things().insertEntity<{ _id: string }>({ name: "a" });
		const b = await things().insertEntity<{ _id: string }>({ name: "b" });
		const readAll = () => Promise.all([broker.call("things.get", { id: a._id }), broker.call("things.get", { id: b._id }), broker.call("things.list", {})]);
		await readAll();
		answered.mockClear();

		const broadcast = jest.spyOn(broker, "broadcast");
		await things().updateEntityById(a._id, { $set: { name: "a2" } });
		expect(broadcast).toHaveBeenCalledWith("cache.clean.things", { match: [expect.stringContaining(a._id), "things.list**"] });
		broadcast.mockRestore();

		const [gotA, gotB, list] = (await readAll()) as [{ name: string }, { name: string }, { name: string }[]];
		expect(gotA.name).toBe("a2");
		expect(gotB.name).toBe("b");
		expect(list.map(t => t.name)).toEqual(["a2", "b"]);
		expect(answered.mock.calls.flat().sort()).toEqual([`get ${a._id}`, "list"]);
	});

	it("keeps every cached answer after a change of fields no answer shows (a product's stock marks), which applies", async () => {
		const d = await things().insertEntity<{ _id: string }>({ name: "d" });
		await Promise.all([broker.call("things.get", { id: d._id }), broker.call("things.list", {})]);
		answered.mockClear();
		const broadcast = jest.spyOn(broker, "broadcast");
		try {
			expect(await things().updateUnseenFields({ _id: d._id, name: "d" }, { $push: { marks: "take:1" } })).toBe(true);
			expect(await things().updateUnseenFields({ _id: d._id, name: "other" }, { $push: { marks: "take:2" } })).toBe(false);
			expect(broadcast).not.toHaveBeenCalledWith("cache.clean.things", expect.anything());
		} finally {
			broadcast.mockRestore();
		}
		await Promise.all([broker.call("things.get", { id: d._id }), broker.call("things.list", {})]);
		expect(answered).not.toHaveBeenCalled();
		expect(await things().findEntityById(d._id)).toMatchObject({ marks: ["take:1"] });
	});

	it("cleans every answer of the service after a change of entities it cannot name", async () => {
		const c = await things().insertEntity<{ _id: string }>({ name: "c" });
		await broker.call("things.get", { id: c._id });
		answered.mockClear();
		await things().updateEntities({ name: "c" }, { $set: { name: "c2" } });
		expect(await broker.call("things.get", { id: c._id })).toMatchObject({ name: "c2" });
		expect(answered).toHaveBeenCalledWith(`get ${c._id}`);
	});
});
