/** The outbox of a document: what a write owes, published and taken off, over a real (in-memory) SQLite store. */
import type { ServiceBroker } from "moleculer";
import { DurableEvents } from "../../mixins/durable-events.mixin";
import type { EventBus } from "../../src/durable-events/bus";
import { outboxOnInsert, owingExcept, relayDocument, withOutbox, type OutboxFields, type OutboxStore } from "../../src/durable-events/outbox";
import { newEvent, type BusinessEvent } from "../../src/events";
import { openCollection } from "../../src/storage/collection";

type Doc = { _id: string; status: string } & OutboxFields;

function store() {
	const docs = openCollection<Doc>({ name: `outbox-${Math.random()}` });
	const port: OutboxStore = {
		owing: (limit, except) => docs.find(owingExcept(except), { limit }),
		byId: id => docs.byId(id),
		update: async (query, update) => ((await docs.updateOne(query as Doc, update)) ? 1 : 0),
	};
	return { docs, port };
}

const created = (id: string) =>
	newEvent("product.created", { productId: id, name: "Mug", price: 900, currency: "USD", category: "kitchen", active: true, stock: 5 });

it("publishes what a document owes, oldest first, then it owes nothing and has no count left", async () => {
	const { docs, port } = store();
	const [first, second] = [created("p1"), created("p1")];
	await docs.insertIfNew({ _id: "p1", status: "new", ...outboxOnInsert([first, second]) });
	const published: BusinessEvent[] = [];

	expect(await relayDocument(port, async e => void published.push(e), (await docs.byId("p1"))!)).toBe(2);
	expect(published.map(e => e.id)).toEqual([first.id, second.id]);
	const doc = await docs.byId("p1");
	expect(doc).not.toHaveProperty("outboxSize");
	expect(Object.keys(doc?.outbox ?? {})).toEqual([]);
	expect(await port.owing(10)).toEqual([]);
});

it("keeps an event written while the relay published the last one it read", async () => {
	const { docs, port } = store();
	await docs.insertIfNew({ _id: "p1", status: "new", ...outboxOnInsert([created("p1")]) });
	const read = (await docs.byId("p1"))!;
	const later = created("p1");
	// The write that owes `later` lands between the read and the relay's publish.
	await docs.updateOne({ _id: "p1" }, withOutbox({ $set: { status: "changed" } }, [later]));

	expect(await relayDocument(port, async () => undefined, read)).toBe(1);
	const doc = await docs.byId("p1");
	expect(doc?.outboxSize).toBe(1);
	expect(Object.keys(doc?.outbox ?? {})).toEqual([later.id]);
	expect((await port.owing(10)).map(d => d._id)).toEqual(["p1"]);
});

it("stops at a publish that fails: the event stays owed, and a second relay takes nothing off twice", async () => {
	const { docs, port } = store();
	const event = created("p1");
	await docs.insertIfNew({ _id: "p1", status: "new", ...outboxOnInsert([event]) });
	const read = (await docs.byId("p1"))!;

	await expect(relayDocument(port, () => Promise.reject(new Error("bus down")), read)).rejects.toThrow("bus down");
	expect((await docs.byId("p1"))?.outboxSize).toBe(1);

	await relayDocument(port, async () => undefined, read);
	await relayDocument(port, async () => undefined, read);
	expect(await docs.byId("p1")).not.toHaveProperty("outboxSize");
});

it("writes no outbox for a write that owes nothing", () => {
	expect(outboxOnInsert([])).toEqual({});
});

it("relays a document again, from a fresh read, when it is written while its relay waits on the bus: the new event is not left for the scan", async () => {
	const { docs, port } = store();
	const [first, second] = [created("p1"), created("p1")];
	await docs.insertIfNew({ _id: "p1", status: "new", ...outboxOnInsert([first]) });
	const published: string[] = [];
	let handled!: () => void;
	const bus = {
		storesEvents: false,
		publish: async (event: BusinessEvent) => {
			published.push(event.id);
			// The in-process bus answers once every group has handled the event: the first one takes a while.
			if (event.id === first.id) await new Promise<void>(resolve => (handled = resolve));
		},
	} as unknown as EventBus;
	const service = { bus: async () => bus, broker: {} as ServiceBroker, relayDoc: DurableEvents.methods!.relayDoc as (...args: unknown[]) => Promise<number> };
	const relay = (doc: Doc) => service.relayDoc.call(service, port, doc);

	const relaying = relay((await docs.byId("p1"))!);
	await docs.updateOne({ _id: "p1" }, withOutbox({ $set: { status: "changed" } }, [second]));
	// The second call gets the relay under way (its answer, or its failure), which reads the document again once done.
	const asked = relay((await docs.byId("p1"))!);
	handled();
	expect(await relaying).toBe(2);
	expect(await asked).toBe(0);
	expect(published).toEqual([first.id, second.id]);
	expect(await docs.byId("p1")).toEqual({ _id: "p1", status: "changed" });
});
