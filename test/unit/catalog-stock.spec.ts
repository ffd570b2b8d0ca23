import {
	adjustUpdate,
	forgetUpdate,
	giveUpdate,
	holdOutcome,
	isLeased,
	lowStockRecovered,
	lowStockReport,
	newHold,
	reconcileHold,
	releaseStock,
	reserveStock,
	settleStock,
	takeUpdate,
	type Hold,
	type StockProduct,
	type StockStore,
} from "../../src/catalog/stock";
import { lacks, openCollection } from "../../src/storage/collection";

const mongoLacks = (field: string, value: string) => ({ [field]: { $ne: value } });
const LEASE_MS = 1000;

describe("rules", () => {
	const hold: Hold = { _id: "o1:p1", orderId: "o1", productId: "p1", quantity: 3, state: "taking", mark: "o1:m", since: "2026-03-04T05:06:07.000Z" };

	it("takes for a hold only from an active product that has enough and has not been marked by that take, marking it in the same write", () => {
		expect(takeUpdate(hold, mongoLacks)).toEqual({
			query: { _id: "p1", active: true, stock: { $gte: 3 }, stockMarks: { $ne: "take:o1:m" } },
			update: { $inc: { stock: -3 }, $push: { stockMarks: "take:o1:m" } },
		});
	});

	it("gives back to the product whether or not it is still sold, once per mark", () => {
		expect(giveUpdate(hold, mongoLacks)).toEqual({
			query: { _id: "p1", stockMarks: { $ne: "give:o1:m" } },
			update: { $inc: { stock: 3 }, $push: { stockMarks: "give:o1:m" } },
		});
		expect(forgetUpdate("p1", "give:o1:m")).toEqual({ query: { _id: "p1", stockMarks: "give:o1:m" }, update: { $pull: { stockMarks: "give:o1:m" } } });
	});

	it("gives every new hold a mark of its own, so that an earlier hold's marks never stand for it", () => {
		const request = { orderId: "o1", productId: "p1", quantity: 3 };
		const now = new Date("2026-03-04T05:06:07.000Z");
		expect(newHold(request, now)).toMatchObject({ _id: "o1:p1", state: "taking", quantity: 3, since: "2026-03-04T05:06:07.000Z" });
		expect(newHold(request, now).mark).not.toBe(newHold(request, now).mark);
	});

	it("leaves a change in flight to its call for the lease, then lets another take it over; a held hold is no change in flight", () => {
		const since = Date.parse(hold.since);
		expect(isLeased(hold, new Date(since + 999), 1000)).toBe(true);
		expect(isLeased(hold, new Date(since + 1000), 1000)).toBe(false);
		expect(isLeased({ ...hold, state: "releasing" }, new Date(since), 1000)).toBe(true);
		expect(isLeased({ ...hold, state: "held" }, new Date(since), 1000)).toBe(false);
	});

	it("adjusts down only when the stock covers the decrease, and stamps updatedAt", () => {
		const now = new Date("2026-03-04T05:06:07.000Z");
		expect(adjustUpdate("p1", -4, now)).toEqual({
			query: { _id: "p1", stock: { $gte: 4 } },
			update: { $inc: { stock: -4 }, $set: { updatedAt: "2026-03-04T05:06:07.000Z" } },
		});
		// An increase is always possible: stock is never negative, so stock >= -delta holds.
		expect(adjustUpdate("p1", 10, now).query).toEqual({ _id: "p1", stock: { $gte: -10 } });
	});

	it("reports low stock once: only below the threshold, only at the stock it saw, and again once the stock recovered", () => {
		expect(lowStockReport({ _id: "p", stock: 5 }, 5)).toBeNull();
		expect(lowStockReport({ _id: "p", stock: 4 }, 5)).toEqual({
			query: { _id: "p", stock: 4, lowStockReported: { $ne: true } },
			update: { $set: { lowStockReported: true } },
		});
		expect(lowStockRecovered("p", 5)).toEqual({
			query: { _id: "p", stock: { $gte: 5 }, lowStockReported: true },
			update: { $set: { lowStockReported: false } },
		});
	});

	it("lets go of a hold by its order's status: given back when the order was given up, kept sold when delivered, else left alone", () => {
		expect(holdOutcome("cancelled")).toBe("release");
		expect(holdOutcome("payment_failed")).toBe("release");
		expect(holdOutcome("delivered")).toBe("settle");
		for (const status of ["pending", "paid", "cancelling", "shipped", undefined]) expect(holdOutcome(status)).toBe("keep");
	});
});

/**
 * Holds and products in NeDB (memory), on a clock that only moves when a call waits:
 * waiting out a lease costs no real time. `crashAt(n)` makes the n-th write from then on
 * throw, without writing, as a process that dies there.
 */
function shop(initialStock: number, { active = true } = {}) {
	const holds = openCollection<Hold>({ name: `holds-${Math.random()}` });
	const products = openCollection<StockProduct & { name: string }>({ name: `products-${Math.random()}` });
	let clock = Date.parse("2026-03-04T05:00:00.000Z");
	let writesLeft = Infinity;
	const write =
		<A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
		async (...args: A): Promise<R> => {
			writesLeft -= 1;
			if (writesLeft <= 0) throw new Error("crashed");
			return fn(...args);
		};
	const store: StockStore = {
		holdById: id => holds.byId(id),
		insertHold: write(hold => holds.insertIfNew(hold)),
		updateHold: write(async (query, update) => (await holds.updateOne(query, update)) !== null),
		removeHold: write(query => holds.removeOne(query)),
		productById: id => products.byId(id),
		updateProduct: write(async (query, update) => (await products.updateOne(query as { _id: string }, update)) !== null),
		updateStockMarks: write(async (query, update) => (await products.updateOne(query as { _id: string }, update)) !== null),
		lacks,
		now: () => new Date(clock),
		sleep: async ms => {
			clock += ms;
			await new Promise(resolve => setImmediate(resolve));
		},
		leaseMs: LEASE_MS,
	};
	const ready = products.insertIfNew({ _id: "p1", name: "Lamp", active, stock: initialStock, stockMarks: [] });
	return {
		store,
		ready,
		crashAt(n: number) {
			writesLeft = n;
		},
		heal() {
			writesLeft = Infinity;
		},
		async product() {
			return (await products.byId("p1"))!;
		},
		holds: () => holds.find({}, { sort: { _id: 1 } }),
	};
}

const order = (orderId: string, quantity = 2) => ({ orderId, productId: "p1", quantity });

describe("reserve, release and settle", () => {
	it("takes an order's stock once however often it is asked, gives it back once, and leaves no mark behind", async () => {
		const s = shop(10);
		await s.ready;
		expect(await reserveStock(s.store, order("o1"))).toBe("taken");
		expect(await reserveStock(s.store, order("o1"))).toBe("held");
		expect(await s.product()).toMatchObject({ stock: 8, stockMarks: [] });
		expect(await s.holds()).toEqual([expect.objectContaining({ _id: "o1:p1", orderId: "o1", productId: "p1", quantity: 2, state: "held" })]);

		expect(await releaseStock(s.store, order("o1"))).toBe(true);
		expect(await releaseStock(s.store, order("o1"))).toBe(false);
		expect(await s.product()).toMatchObject({ stock: 10, stockMarks: [] });
		expect(await s.holds()).toEqual([]);
		expect(await releaseStock(s.store, order("never-reserved"))).toBe(false);
	});

	it("refuses when there is not enough, or no product to sell, and keeps no hold", async () => {
		const s = shop(1);
		await s.ready;
		expect(await reserveStock(s.store, order("o1", 2))).toBe("out of stock");
		expect(await reserveStock(s.store, { ...order("o1"), productId: "missing" })).toBe("unknown product");
		const removed = shop(5, { active: false });
		await removed.ready;
		expect(await reserveStock(removed.store, order("o1"))).toBe("unknown product");
		expect({ stock: (await s.product()).stock, holds: await s.holds(), removedHolds: await removed.holds() }).toEqual({
			stock: 1,
			holds: [],
			removedHolds: [],
		});
	});

	it("settles a delivered order's hold without touching the stock", async () => {
		const s = shop(10);
		await s.ready;
		await reserveStock(s.store, order("o1"));
		expect(await settleStock(s.store, order("o1"))).toBe(true);
		expect(await settleStock(s.store, order("o1"))).toBe(false);
		expect(await releaseStock(s.store, order("o1"))).toBe(false);
		expect({ product: await s.product(), holds: await s.holds() }).toEqual({ product: expect.objectContaining({ stock: 8, stockMarks: [] }), holds: [] });
	});

	// insert the hold, take, hold held, forget the mark
	it.each([1, 2, 3, 4])("takes once when a reserve dies at its write %i and is asked again", async n => {
		const s = shop(10);
		await s.ready;
		s.crashAt(n);
		await expect(reserveStock(s.store, order("o1", 3))).rejects.toThrow("crashed");
		s.heal();
		expect(await reserveStock(s.store, order("o1", 3))).toMatch(/taken|held/);
		expect(await s.product()).toMatchObject({ stock: 7, stockMarks: [] });
		expect((await s.holds()).map(h => [h._id, h.state, h.quantity])).toEqual([["o1:p1", "held", 3]]);
	});

	// to releasing, give back, to released, forget the take mark, forget the give mark, remove the hold
	it.each([1, 2, 3, 4, 5, 6])("gives back once when a release dies at its write %i and is asked again", async n => {
		const s = shop(10);
		await s.ready;
		await reserveStock(s.store, order("o1", 3));
		s.crashAt(n);
		await expect(releaseStock(s.store, order("o1", 3))).rejects.toThrow("crashed");
		s.heal();
		await releaseStock(s.store, order("o1", 3));
		expect(await s.product()).toMatchObject({ stock: 10, stockMarks: [] });
		expect(await s.holds()).toEqual([]);
	});

	it.each([1, 2, 3, 4])("ends consistent when a reserve dies at its write %i and nobody asks again: the reconciliation finishes it", async n => {
		const s = shop(10);
		await s.ready;
		s.crashAt(n);
		await expect(reserveStock(s.store, order("o1", 3))).rejects.toThrow("crashed");
		s.heal();
		await s.store.sleep(2 * LEASE_MS);
		for (const hold of await s.holds()) await reconcileHold(s.store, hold, "paid");
		const holds = await s.holds();
		expect(holds.every(h => h.state === "held")).toBe(true);
		expect({ total: (await s.product()).stock + holds.reduce((sum, h) => sum + h.quantity, 0), marks: (await s.product()).stockMarks }).toEqual({
			total: 10,
			marks: [],
		});
	});

	it.each([1, 2, 3, 4, 5, 6])("gives back once when a release dies at its write %i and the reconciliation finds its order cancelled", async n => {
		const s = shop(10);
		await s.ready;
		await reserveStock(s.store, order("o1", 3));
		s.crashAt(n);
		await expect(releaseStock(s.store, order("o1", 3))).rejects.toThrow("crashed");
		s.heal();
		await s.store.sleep(2 * LEASE_MS);
		for (const hold of await s.holds()) await reconcileHold(s.store, hold, "cancelled");
		expect({ product: await s.product(), holds: await s.holds() }).toEqual({ product: expect.objectContaining({ stock: 10, stockMarks: [] }), holds: [] });
	});

	it("takes once for concurrent reserves of the same order, and gives back once for concurrent releases", async () => {
		const s = shop(10);
		await s.ready;
		const reserves = await Promise.all([1, 2, 3, 4, 5].map(() => reserveStock(s.store, order("o1", 4))));
		expect(reserves.sort()).toEqual(["held", "held", "held", "held", "taken"]);
		expect(await s.product()).toMatchObject({ stock: 6, stockMarks: [] });
		const releases = await Promise.all([1, 2, 3, 4, 5].map(() => releaseStock(s.store, order("o1", 4))));
		expect(releases.filter(Boolean)).toHaveLength(1);
		expect({ product: await s.product(), holds: await s.holds() }).toEqual({ product: expect.objectContaining({ stock: 10, stockMarks: [] }), holds: [] });
	});

	it("never oversells under a flood of reserves for different orders, and keeps one hold per order served", async () => {
		const s = shop(10);
		await s.ready;
		const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => reserveStock(s.store, order(`o${i}`, 1))));
		expect(outcomes.filter(o => o === "taken")).toHaveLength(10);
		expect(outcomes.filter(o => o === "out of stock")).toHaveLength(30);
		expect(await s.product()).toMatchObject({ stock: 0, stockMarks: [] });
		expect(await s.holds()).toHaveLength(10);
	});

	it("keeps the product the same size however many orders hold its stock", async () => {
		const s = shop(500_000);
		await s.ready;
		const before = JSON.stringify(await s.product());
		for (let i = 0; i < 200; i += 1) {
			await reserveStock(s.store, order(`o${i}`, 1));
			expect((await s.product()).stockMarks).toEqual([]);
		}
		const after = await s.product();
		expect(after.stock).toBe(499_800);
		expect(JSON.stringify(after).length).toBe(before.length);
		expect(await s.holds()).toHaveLength(200);
	});

	it("lets a call taken over after its lease write nothing more to the hold: the stock it took counts once", async () => {
		const s = shop(10);
		await s.ready;
		// The first call dies right after taking, before recording it; the second finds the mark and records that take.
		s.crashAt(3);
		await expect(reserveStock(s.store, order("o1", 3))).rejects.toThrow("crashed");
		s.heal();
		const [hold] = await s.holds();
		expect(hold.state).toBe("taking");
		expect((await s.product()).stockMarks).toEqual([`take:${hold.mark}`]);
		expect(await reserveStock(s.store, order("o1", 3))).toBe("held");
		// The dead call's write of "held" under its own lease matches nothing any more.
		expect(await s.store.updateHold({ _id: hold._id, mark: hold.mark, state: "taking", since: hold.since }, { $set: { state: "held" } })).toBe(false);
		expect(await s.product()).toMatchObject({ stock: 7, stockMarks: [] });
	});
});

describe("reconciliation", () => {
	it("gives back a given-up order's stock, ends a delivered order's hold, and leaves the holds of orders in play and changes in flight", async () => {
		const s = shop(20);
		await s.ready;
		for (const id of ["cancelled", "failed", "delivered", "paid"]) await reserveStock(s.store, order(id, 2));
		const statuses: Record<string, string> = { cancelled: "cancelled", failed: "payment_failed", delivered: "delivered", paid: "paid" };
		for (const hold of await s.holds()) await reconcileHold(s.store, hold, statuses[hold.orderId]);
		expect((await s.holds()).map(h => h.orderId)).toEqual(["paid"]);
		expect(await s.product()).toMatchObject({ stock: 20 - 2 - 2, stockMarks: [] });

		// A reserve in flight (died after inserting its hold) is its caller's until the lease runs out.
		s.crashAt(2);
		await expect(reserveStock(s.store, order("in-flight", 1))).rejects.toThrow("crashed");
		s.heal();
		const inFlight = (await s.holds()).find(h => h.orderId === "in-flight")!;
		expect(await reconcileHold(s.store, inFlight, "cancelled")).toBe(false);
		expect((await s.holds()).find(h => h.orderId === "in-flight")?.state).toBe("taking");
		await s.store.sleep(2 * LEASE_MS);
		await reconcileHold(s.store, inFlight, "cancelled");
		expect((await s.holds()).map(h => h.orderId)).toEqual(["paid"]);
		expect(await s.product()).toMatchObject({ stock: 16, stockMarks: [] });
	});
});
