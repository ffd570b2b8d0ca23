/**
 * The roller over real collections (NeDB in memory), with crashes and stalls injected at
 * every write: whatever happens, each event is counted once, and no rollup keeps a mark.
 */
import type { BusinessEvent } from "../../src/events";
import { receiveEvent, type InboxEntry, type LogEntry } from "../../src/analytics/record";
import { roll, ROLLUP_JOB, type RollOptions, type RollStores, type RollupJob } from "../../src/analytics/roll";
import type { RollupDoc } from "../../src/analytics/rollups";
import { lacks, openCollection, type Keyed } from "../../src/storage/collection";

const NOW = new Date("2026-11-25T12:00:00.000Z");
const LEASE_MS = 30_000;

type Collections = ReturnType<typeof collections>;

function collections() {
	const name = Math.random().toString(36).slice(2);
	return {
		inbox: openCollection<InboxEntry>({ name: `inbox-${name}`, indexes: ["receivedAt"] }),
		log: openCollection<LogEntry>({ name: `log-${name}` }),
		main: openCollection<Keyed & Record<string, unknown>>({ name: `main-${name}` }),
	};
}

/**
 * One roller's view of the collections. `fault.crashAfter` writes succeed, every later one
 * throws (the process died); `fault.stallAt` (a write's number) waits at that write until
 * `fault.wake()` (the process froze).
 */
type Fault = { crashAfter?: number; stallAt?: number; stalled?: Promise<void>; wake?: () => void; writes: number };

function rollerStores(c: Collections, fault: Fault = { writes: 0 }): RollStores {
	const write =
		<A extends unknown[], R>(f: (...args: A) => Promise<R>) =>
		async (...args: A): Promise<R> => {
			const n = fault.writes++;
			if (fault.crashAfter !== undefined && n >= fault.crashAfter) throw new Error("crashed");
			if (n === fault.stallAt) await fault.stalled;
			return f(...args);
		};
	return {
		inbox: { find: (q, o) => c.inbox.find(q, o), removeOne: write(q => c.inbox.removeOne(q)), removeMany: write(q => c.inbox.removeMany(q)) },
		log: { byId: id => c.log.byId(id), insertIfNew: write(doc => c.log.insertIfNew(doc)) },
		main: { byId: id => c.main.byId(id), insertIfNew: write(doc => c.main.insertIfNew(doc)), updateOne: write((q, u) => c.main.updateOne(q, u)) },
		lacks,
	};
}

function options(now: Date, more: Partial<RollOptions> = {}): RollOptions {
	return { batchSize: 3, leaseMs: LEASE_MS, now: () => now, onMalformed: () => undefined, ...more };
}

const later = (ms: number) => new Date(NOW.getTime() + ms);

function paid(id: string, productId: string, quantity: number, at = "2026-11-25T10:00:00.000Z"): BusinessEvent {
	const lineTotal = quantity * 500;
	return {
		id,
		type: "order.paid",
		at,
		data: { orderId: `o-${id}`, total: lineTotal, currency: "USD", items: [{ productId, name: `Product ${productId}`, unitPrice: 500, quantity, lineTotal }] },
	};
}

/** Seven events over two days and two products: three batches of three at most. */
const EVENTS: BusinessEvent[] = [
	paid("e1", "p1", 1),
	paid("e2", "p2", 2),
	paid("e3", "p1", 3, "2026-11-24T09:00:00.000Z"),
	{ id: "e4", type: "user.registered", at: "2026-11-25T08:00:00.000Z", data: { userId: "u1", email: "u1@example.com", name: "U" } },
	paid("e5", "p2", 1),
	{ id: "e6", type: "order.shipped", at: "2026-11-25T11:00:00.000Z", data: {} },
	paid("e7", "p1", 2),
];

/** What the rollups must say once every event of EVENTS is counted once. */
const COUNTED = {
	"events:2026-11-25": { count: 6 },
	"events:2026-11-24": { count: 1 },
	"sales:2026-11-25:USD": { count: 4, amount: (1 + 2 + 1 + 2) * 500 },
	"sales:2026-11-24:USD": { count: 1, amount: 3 * 500 },
	"product:p1:USD": { count: 6, amount: 6 * 500 },
	"product:p2:USD": { count: 3, amount: 3 * 500 },
	"signups:2026-11-25": { count: 1 },
};

async function receiveAll(c: Collections, events: BusinessEvent[] = EVENTS): Promise<void> {
	for (const event of events) await receiveEvent(c, event, NOW);
}

async function rollups(c: Collections): Promise<Record<string, { count?: number; amount?: number }>> {
	const docs = (await c.main.find({ kind: "rollup" })) as unknown as RollupDoc[];
	return Object.fromEntries(docs.map(doc => [doc._id, doc.amount ? { count: doc.count, amount: doc.amount } : { count: doc.count }]));
}

/** Every event counted once, logged, gone from the inbox; no batch left in the job or in any rollup. */
async function expectCountedOnce(c: Collections): Promise<void> {
	expect(await rollups(c)).toEqual(COUNTED);
	expect(await c.inbox.count()).toBe(0);
	expect((await c.log.find({})).map(entry => entry._id).sort()).toEqual(EVENTS.map(event => event.id).sort());
	for (const doc of await c.main.find({ kind: "rollup" })) expect(doc.batches).toEqual([]);
	expect(((await c.main.byId(ROLLUP_JOB)) as RollupJob).batchId).toBeNull();
}

it("counts the inbox in batches into the rollups and the log, and leaves no marks behind", async () => {
	const c = collections();
	await receiveAll(c);
	expect(await roll(rollerStores(c), options(NOW))).toBe(EVENTS.length);
	await expectCountedOnce(c);
	expect(await c.main.byId("product:p1:USD")).toMatchObject({ metric: "product", productId: "p1", currency: "USD", name: "Product p1" });
	expect(await c.log.byId("e3")).toMatchObject({
		type: "order.paid",
		at: "2026-11-24T09:00:00.000Z",
		receivedAt: NOW.toISOString(),
		batchId: expect.any(String),
	});
});

it("finishes a batch that a crash interrupted at any write, counting each event once", async () => {
	const clean = { writes: 0 };
	const probe = collections();
	await receiveAll(probe);
	await roll(rollerStores(probe, clean), options(NOW));
	expect(clean.writes).toBeGreaterThan(20);

	for (let crashAfter = 0; crashAfter < clean.writes; crashAfter += 1) {
		const c = collections();
		await receiveAll(c);
		await expect(roll(rollerStores(c, { crashAfter, writes: 0 }), options(NOW))).rejects.toThrow("crashed");
		// The durable bus delivers again whatever it was not sure of.
		await receiveAll(c);
		// The crashed roller's lease runs out; another instance takes over.
		await roll(rollerStores(c), options(later(2 * LEASE_MS)));
		await expectCountedOnce(c);
	}
});

it("counts nothing twice when a roller frozen at any write wakes up after another took its batch over", async () => {
	const probe = collections();
	const clean = { writes: 0 };
	await receiveAll(probe);
	await roll(rollerStores(probe, clean), options(NOW));

	for (let stallAt = 0; stallAt < clean.writes; stallAt += 1) {
		const c = collections();
		await receiveAll(c);
		const fault: Fault = { stallAt, writes: 0 };
		fault.stalled = new Promise(resolve => (fault.wake = resolve));
		const frozen = roll(rollerStores(c, fault), options(NOW));
		while (fault.writes <= stallAt) await new Promise(resolve => setImmediate(resolve));

		await roll(rollerStores(c), options(later(2 * LEASE_MS)));
		fault.wake?.();
		await frozen;
		await expectCountedOnce(c);
	}
});

it("counts an event delivered again after it was counted not at all: the roller drops it from the inbox", async () => {
	const c = collections();
	await receiveAll(c);
	await roll(rollerStores(c), options(NOW));

	expect(await receiveEvent(c, EVENTS[0], later(1000))).toBe(true);
	expect(await roll(rollerStores(c), options(later(1000)))).toBe(0);
	await expectCountedOnce(c);
});

it("never counts twice with two instances rolling while events keep coming", async () => {
	const c = collections();
	const a = rollerStores(c);
	const b = rollerStores(c);
	const running: Promise<number>[] = [];
	for (const event of [...EVENTS, ...EVENTS]) {
		await receiveEvent(c, event, NOW);
		running.push(roll(a, options(NOW)), roll(b, options(NOW)));
	}
	const counted = await Promise.all(running);
	expect(counted.reduce((sum, n) => sum + n, 0)).toBe(EVENTS.length);
	await expectCountedOnce(c);
});

it("drops an event it cannot count from the inbox, says which, and counts the others", async () => {
	const c = collections();
	await receiveAll(c);
	await c.inbox.insertIfNew({ _id: "bad", type: "order.paid", at: "2026-11-25T10:00:00.000Z", data: { total: "lots" }, receivedAt: NOW.toISOString() });
	const dropped: string[] = [];
	await roll(rollerStores(c), options(NOW, { onMalformed: entry => dropped.push(`${entry._id} ${entry.type}`) }));
	expect(dropped).toEqual(["bad order.paid"]);
	await expectCountedOnce(c);
});

it("keeps the rollups the same size however many events it counts", async () => {
	const c = collections();
	const many = Array.from({ length: 2000 }, (_, i) => paid(`m${i}`, `p${i % 3}`, 1));
	for (const event of many) await receiveEvent(c, event, NOW);
	expect(await roll(rollerStores(c), options(NOW, { batchSize: 500 }))).toBe(2000);
	expect(await c.main.byId("sales:2026-11-25:USD")).toMatchObject({ count: 2000, amount: 2000 * 500, batches: [] });
	for (const doc of await c.main.find({ kind: "rollup" })) expect(doc.batches).toEqual([]);
	expect(await c.inbox.count()).toBe(0);
});

it("leaves the inbox to the roller that holds the lease, which looks again once it lets the lease go", async () => {
	const probe = collections();
	const clean = { writes: 0 };
	await receiveAll(probe, EVENTS.slice(0, 1));
	await roll(rollerStores(probe, clean), options(NOW));

	// The holder counts the first event, finds the inbox empty and stalls as it lets the lease go (its last write).
	const c = collections();
	await receiveAll(c, EVENTS.slice(0, 1));
	const holder: Fault = { stallAt: clean.writes - 1, writes: 0 };
	holder.stalled = new Promise(resolve => (holder.wake = resolve));
	const first = roll(rollerStores(c, holder), options(NOW));
	while (holder.writes < clean.writes) await new Promise(resolve => setImmediate(resolve));

	await receiveAll(c, EVENTS.slice(1));
	expect(await roll(rollerStores(c), options(NOW))).toBe(0);
	holder.wake?.();
	expect(await first).toBe(EVENTS.length);
	await expectCountedOnce(c);
});
