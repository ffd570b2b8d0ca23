import type { BusinessEvent } from "../../src/events";
import { applyRollup, COUNTING_LEASE_MS, eventView, logEntry, recordEvent, retentionCutoff, type AnalyticsStore } from "../../src/analytics/record";
import { rollupChanges } from "../../src/analytics/rollups";

type Doc = Record<string, any> & { _id: string };

type Update = { $inc?: Record<string, number>; $set?: Record<string, unknown>; $push?: { applied: string }; $pull?: { applied: string } };
type Query = { _id: string; counted?: boolean; countingUntil?: { $lt: string }; lacks?: { field: string; value: string } };

/** A collection with a unique `key`, the updates recording uses, and hooks to interleave another writer or fail. */
class MemoryStore implements AnalyticsStore {
	readonly docs = new Map<string, Doc>();
	beforeInsert?: (doc: Doc) => void;
	failUpdates = false;
	/** Updates that succeed before every further one fails, as in a crash. */
	updatesBeforeCrash = Infinity;

	async insertIfNew(doc: object): Promise<boolean> {
		const entry = structuredClone(doc) as Doc;
		this.beforeInsert?.(entry);
		if (this.docs.has(entry._id)) return false;
		this.docs.set(entry._id, entry);
		return true;
	}

	lacks(field: string, value: string) {
		return { lacks: { field, value } };
	}

	private matches(doc: Doc | undefined, query: Query): doc is Doc {
		if (!doc) return false;
		if (query.counted !== undefined && doc.counted !== query.counted) return false;
		if (query.countingUntil && !(doc.countingUntil < query.countingUntil.$lt)) return false;
		return !(query.lacks && (doc[query.lacks.field] ?? []).includes(query.lacks.value));
	}

	async byId(id: string): Promise<Doc | null> {
		return this.docs.get(id) ?? null;
	}

	async update(query: Query, update: Update): Promise<number> {
		if (this.failUpdates || this.updatesBeforeCrash-- <= 0) throw new Error("store down");
		const doc = this.docs.get(query._id);
		if (!this.matches(doc, query)) return 0;
		for (const [field, by] of Object.entries(update.$inc ?? {})) doc[field] = (doc[field] ?? 0) + by;
		Object.assign(doc, update.$set);
		if (update.$push) doc.applied = [...(doc.applied ?? []), update.$push.applied];
		if (update.$pull) doc.applied = (doc.applied ?? []).filter((id: string) => id !== update.$pull!.applied);
		return 1;
	}
}

const NOW = new Date("2026-11-25T12:00:00.000Z");

const paid: BusinessEvent = {
	id: "evt-1",
	type: "order.paid",
	at: "2026-11-25T10:00:00.000Z",
	data: { orderId: "o1", total: 2000, currency: "USD", items: [{ productId: "p1", name: "Mug", unitPrice: 1000, quantity: 2, lineTotal: 2000 }] },
};

it("logs the event and counts it in its rollups", async () => {
	const store = new MemoryStore();
	expect(await recordEvent(store, paid, NOW)).toBe(true);
	expect(store.docs.get("event:evt-1")).toEqual({
		...logEntry(paid, NOW),
		receivedAt: "2026-11-25T12:00:00.000Z",
		counted: true,
		countingBy: expect.any(String),
		countingUntil: expect.any(String),
	});
	expect(store.docs.get("sales:2026-11-25:USD")).toMatchObject({ count: 1, amount: 2000 });
	expect(store.docs.get("product:p1:USD")).toMatchObject({ count: 2, amount: 2000, name: "Mug" });
	expect(store.docs.get("events:2026-11-25")).toMatchObject({ count: 1 });
});

it("counts a second delivery of the same event not at all", async () => {
	const store = new MemoryStore();
	await recordEvent(store, paid, NOW);
	const before = structuredClone([...store.docs.values()]);
	expect(await recordEvent(store, paid, new Date(NOW.getTime() + 1000))).toBe(false);
	expect([...store.docs.values()]).toEqual(before);
});

it("finishes on a redelivery what a crash interrupted, counting nothing twice", async () => {
	const store = new MemoryStore();
	await recordEvent(store, { ...paid, id: "evt-0" }, NOW);
	store.updatesBeforeCrash = 1;
	await expect(recordEvent(store, paid, NOW)).rejects.toThrow("store down");
	store.updatesBeforeCrash = Infinity;

	// Another delivery while the first one's lease runs is told to come again; after it, it takes over.
	await expect(recordEvent(store, paid, NOW)).rejects.toMatchObject({ code: 503, type: "EVENT_BEING_COUNTED" });
	const later = new Date(NOW.getTime() + 2 * COUNTING_LEASE_MS);
	expect(await recordEvent(store, paid, later)).toBe(true);
	expect(await recordEvent(store, paid, later)).toBe(false);
	expect(store.docs.get("sales:2026-11-25:USD")).toMatchObject({ count: 2, amount: 4000 });
	expect(store.docs.get("product:p1:USD")).toMatchObject({ count: 4, amount: 4000 });
	expect(store.docs.get("events:2026-11-25")).toMatchObject({ count: 2 });
});

it("adds to rollups that exist, one event after another", async () => {
	const store = new MemoryStore();
	await recordEvent(store, paid, NOW);
	await recordEvent(store, { ...paid, id: "evt-2" }, NOW);
	expect(store.docs.get("sales:2026-11-25:USD")).toMatchObject({ count: 2, amount: 4000 });
	expect(store.docs.get("events:2026-11-25")).toMatchObject({ count: 2 });
});

it("adds to the rollup another instance created between its update and its insert", async () => {
	const store = new MemoryStore();
	const [change] = rollupChanges(paid);
	store.beforeInsert = doc => {
		store.beforeInsert = undefined;
		store.docs.set(doc._id, { ...doc, count: 5, applied: ["evt-other"] });
	};
	await applyRollup(store, change, paid.id);
	expect(store.docs.get("events:2026-11-25")).toMatchObject({ count: 6 });
});

it("writes nothing for an event it cannot count, so that it is retried and then dead-lettered", async () => {
	const store = new MemoryStore();
	await expect(recordEvent(store, { ...paid, data: { ...paid.data, total: "lots" } }, NOW)).rejects.toThrow(/total/);
	await expect(recordEvent(store, { type: "order.paid" } as BusinessEvent, NOW)).rejects.toThrow(/id and type/);
	expect(store.docs.size).toBe(0);
});

it("propagates a store failure so that the delivery is retried", async () => {
	const store = new MemoryStore();
	store.failUpdates = true;
	await expect(recordEvent(store, paid, NOW)).rejects.toThrow("store down");
});

it("shows a log entry as the event it was, and dates the end of retention", () => {
	expect(eventView(logEntry(paid, NOW))).toEqual({ eventId: "evt-1", type: "order.paid", at: paid.at, data: paid.data });
	expect(retentionCutoff(NOW, 90)).toBe("2026-08-27T12:00:00.000Z");
});

it("counts a redelivery once however many other events came in between, and keeps no ids of counted events", async () => {
	const store = new MemoryStore();
	await recordEvent(store, paid, NOW);
	for (let i = 0; i < 5000; i += 1) await recordEvent(store, { ...paid, id: `evt-between-${i}` }, NOW);
	expect(await recordEvent(store, paid, NOW)).toBe(false);
	expect(store.docs.get("sales:2026-11-25:USD")).toMatchObject({ count: 5001, amount: 5001 * 2000 });
	for (const doc of store.docs.values()) if (doc.kind === "rollup") expect(doc.applied).toEqual([]);
});

it("takes a log entry written before leases existed (no `counted`) as counted", async () => {
	const store = new MemoryStore();
	const { counted: _counted, ...legacy } = logEntry(paid, NOW);
	await store.insertIfNew(legacy);
	expect(await recordEvent(store, paid, NOW)).toBe(false);
	expect(store.docs.get("sales:2026-11-25:USD")).toBeUndefined();
});
