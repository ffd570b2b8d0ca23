import { ServiceBroker, type Service } from "moleculer";
import { DbMixin } from "../../mixins/db.mixin";

/**
 * A change to a cached service's data cleans the shared cache before it tells the other
 * nodes: a node that emptied its own (near) cache while the shared one still held the old
 * answer could read that answer again and keep it.
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
});
