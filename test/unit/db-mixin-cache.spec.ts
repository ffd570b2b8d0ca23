import { ServiceBroker, type Service } from "moleculer";
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
			expect(await things.updateEntityById(_id, { $set: { name: "cup" } })).toMatchObject({ name: "cup" });
			expect(await things.updateEntityById(_id, { $set: { name: "bowl" } })).toMatchObject({ name: "bowl" });
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
