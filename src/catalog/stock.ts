/**
 * Stock rules. Every change of a product's stock is one conditional update that the store
 * applies atomically, so stock never goes below zero however many instances take from it
 * at once: the condition is part of the write, never a read before it.
 *
 * What an order holds lives in a collection of its own (`catalog_holds`): one record per
 * order and product, keyed `${orderId}:${productId}`, with its quantity and a state, for
 * the orders in play only (a hold ends when its order is delivered or gives its stock back).
 * The product keeps no per-order list, only `stockMarks`: the marks of the stock changes
 * being applied right now, so that a change and its mark are one atomic write.
 *
 * Without transactions (FerretDB has none) each step is one idempotent write, and the hold
 * says which step comes next:
 * - taking: insert the hold ("taking"); take the stock and add the mark `take:<mark>` in one
 *   conditional update `{ stock >= q, stockMarks lacks it }`; the hold becomes "held"; the
 *   mark goes again;
 * - giving back: the hold becomes "releasing"; give the stock back and add `give:<mark>` in
 *   one update `{ stockMarks lacks it }`; the hold becomes "released"; the marks go; the hold
 *   goes;
 * - settling (delivered): the marks go; the hold goes, its stock sold for good.
 * Whoever finishes a half-done change goes by the mark: a change whose mark is in the
 * product has applied (the mark goes only after the hold recorded the outcome), and the
 * update that applies it, conditional on the mark's absence, does not apply it twice. Each
 * hold's `mark` is new, so marks of an earlier hold of the same order never stand for a later one.
 *
 * One call at a time changes a hold: the one that moved it to "taking" or "releasing" owns it
 * for a lease (`since`); another call for the same hold waits for it, and takes it over once
 * the lease ran out (its owner died). Each owner's writes to the hold name its `since`, so
 * an owner taken over changes nothing more in the hold. Its change of the stock, though, if
 * it was stalled rather than dead, can still land after the new owner finished (README,
 * Known limits).
 */
import { randomUUID } from "node:crypto";

export const RESERVE_MAX_QUANTITY = 1000;
export const STOCK_MAX = 1_000_000_000;
export const ADJUST_MAX_DELTA = 1_000_000;

/** How often a call waiting for another one's change of a hold looks again. */
export const HOLD_WAIT_MS = 20;

export type ConditionalUpdate = { query: Record<string, unknown>; update: Record<string, unknown> };

/** The store's way to say "the array `field` does not contain `value`" (db mixin `lacks`). */
export type Lacks = (field: string, value: string) => object;

export type HoldState = "taking" | "held" | "releasing" | "released";

/** Stock an order holds of a product, as stored in `catalog_holds`. */
export type Hold = {
	_id: string;
	orderId: string;
	productId: string;
	quantity: number;
	state: HoldState;
	/** Names this hold's stock changes in the product's `stockMarks` (`take:<mark>`, `give:<mark>`). */
	mark: string;
	/** When its current owner took it: the lease of a change in flight. */
	since: string;
};

/** What the stock rules read of a product. */
export type StockProduct = { _id: string; active: boolean; stock: number; stockMarks?: string[] };

/** What the stock rules need from the database and the clock. */
export interface StockStore {
	holdById(id: string): Promise<Hold | null>;
	/** Inserts the hold unless one with its `_id` exists: false then, and nothing written. */
	insertHold(hold: Hold): Promise<boolean>;
	/** One atomic conditional update of the hold `query._id`; true when it matched. */
	updateHold(query: { _id: string } & Record<string, unknown>, update: object): Promise<boolean>;
	/** Removes the hold `query._id` if it still matches; true when it did. */
	removeHold(query: { _id: string } & Record<string, unknown>): Promise<boolean>;
	productById(id: string): Promise<StockProduct | null>;
	/** One atomic conditional update of the product `query._id`; true when it matched. */
	updateProduct(query: Record<string, unknown>, update: object): Promise<boolean>;
	/** The same, for a change of its `stockMarks` alone, which no answer shows: nothing cached is cleaned. */
	updateStockMarks(query: Record<string, unknown>, update: object): Promise<boolean>;
	lacks: Lacks;
	now(): Date;
	sleep(ms: number): Promise<void>;
	/** How long a change of a hold may run before another call takes it over. */
	leaseMs: number;
}

export type StockRequest = { productId: string; orderId: string; quantity: number };

export const holdId = (orderId: string, productId: string) => `${orderId}:${productId}`;
export const takeMark = (hold: Pick<Hold, "mark">) => `take:${hold.mark}`;
export const giveMark = (hold: Pick<Hold, "mark">) => `give:${hold.mark}`;

/** A hold being taken, with a mark of its own. */
export function newHold({ productId, orderId, quantity }: StockRequest, now: Date): Hold {
	return {
		_id: holdId(orderId, productId),
		orderId,
		productId,
		quantity,
		state: "taking",
		mark: `${orderId}:${randomUUID().slice(0, 8)}`,
		since: now.toISOString(),
	};
}

/** Takes the hold's quantity from an active product that has that much, marking the take, unless it is marked already. */
export function takeUpdate(hold: Hold, lacks: Lacks): ConditionalUpdate {
	const mark = takeMark(hold);
	return {
		query: { _id: hold.productId, active: true, stock: { $gte: hold.quantity }, ...lacks("stockMarks", mark) },
		update: { $inc: { stock: -hold.quantity }, $push: { stockMarks: mark } },
	};
}

/** Gives the hold's quantity back to the product, active or not, marking it, unless it is marked already. */
export function giveUpdate(hold: Hold, lacks: Lacks): ConditionalUpdate {
	const mark = giveMark(hold);
	return { query: { _id: hold.productId, ...lacks("stockMarks", mark) }, update: { $inc: { stock: hold.quantity }, $push: { stockMarks: mark } } };
}

/** Takes a mark out of the product; matches nothing (writes nothing) when it is not there. */
export function forgetUpdate(productId: string, mark: string): ConditionalUpdate {
	return { query: { _id: productId, stockMarks: mark }, update: { $pull: { stockMarks: mark } } };
}

/** The condition of a hold's owner's writes: still this hold, in this state, owned since then. */
export function ownerQuery(hold: Hold): { _id: string } & Record<string, unknown> {
	return { _id: hold._id, mark: hold.mark, state: hold.state, since: hold.since };
}

/** A change in flight ("taking", "releasing") younger than the lease belongs to the call doing it. */
export function isLeased(hold: Hold, now: Date, leaseMs: number): boolean {
	return (hold.state === "taking" || hold.state === "releasing") && Date.parse(hold.since) + leaseMs > now.getTime();
}

/** The `since` of a new owner: now, and never the same as the last owner's (that would let both write). */
export function nextSince(hold: Hold, now: Date): string {
	return new Date(Math.max(now.getTime(), Date.parse(hold.since) + 1)).toISOString();
}

/**
 * What to do with a hold, by its order's status: a failed or cancelled order gives its
 * stock back, a delivered one keeps it sold and lets the hold go; any other (or an order
 * the orders service does not know) is left alone.
 */
export function holdOutcome(status: string | undefined): "release" | "settle" | "keep" {
	if (status === "cancelled" || status === "payment_failed") return "release";
	if (status === "delivered") return "settle";
	return "keep";
}

export type ReserveOutcome = "taken" | "held" | "unknown product" | "out of stock";

/**
 * Takes stock for an order once, however often and however concurrently it is asked:
 * "taken" by this call, "held" when the order holds it already; "unknown product" for a
 * missing or removed product and "out of stock" when there is not enough, taking nothing.
 */
export async function reserveStock(store: StockStore, request: StockRequest): Promise<ReserveOutcome> {
	for (;;) {
		const fresh = newHold(request, store.now());
		if (await store.insertHold(fresh)) {
			const outcome = await take(store, fresh);
			if (outcome !== "lost") return outcome;
			continue;
		}
		const hold = await store.holdById(fresh._id);
		if (!hold) continue;
		if (hold.state === "held") {
			// A crash may have come between recording the take and forgetting its mark.
			await forget(store, hold.productId, takeMark(hold));
			return "held";
		}
		// Held until the release in flight ends: as if this call had come just before it.
		if (hold.state === "releasing") return "held";
		if (hold.state === "released") await endReleased(store, hold);
		else await finishStale(store, hold);
	}
}

/** Gives back what the order holds of the product, once: true when this call gave it back, false when it held nothing. */
export async function releaseStock(store: StockStore, { orderId, productId }: Omit<StockRequest, "quantity">): Promise<boolean> {
	for (;;) {
		const hold = await store.holdById(holdId(orderId, productId));
		if (!hold) return false;
		if (hold.state === "held") {
			const releasing: Hold = { ...hold, state: "releasing", since: nextSince(hold, store.now()) };
			if (!(await store.updateHold({ _id: hold._id, mark: hold.mark, state: "held" }, { $set: { state: "releasing", since: releasing.since } }))) continue;
			if (await give(store, releasing)) return true;
		} else if (hold.state === "released") {
			await endReleased(store, hold);
			return false;
		} else if ((await finishStale(store, hold)) === "given") return true;
	}
}

/** The order was delivered: its stock is sold for good and the hold ends. True when this call ended it. */
export async function settleStock(store: StockStore, { orderId, productId }: Omit<StockRequest, "quantity">): Promise<boolean> {
	for (;;) {
		const hold = await store.holdById(holdId(orderId, productId));
		if (!hold) return false;
		if (hold.state === "held") {
			// The mark first: once the hold is gone nobody knows it.
			await forget(store, productId, takeMark(hold));
			if (await store.removeHold({ _id: hold._id, mark: hold.mark, state: "held" })) return true;
		} else if (hold.state === "released") {
			await endReleased(store, hold);
			return false;
		} else await finishStale(store, hold);
	}
}

/**
 * One hold at the reconciliation, by its order's status: given back when the order was
 * given up, ended when it was delivered; a change left half-done by a call that died
 * (past its lease) is finished. A change in flight is left to its call. True when it changed something.
 */
export async function reconcileHold(store: StockStore, hold: Hold, status: string | undefined): Promise<boolean> {
	if (isLeased(hold, store.now(), store.leaseMs)) return false;
	const outcome = holdOutcome(status);
	if (outcome === "release") return releaseStock(store, hold);
	if (outcome === "settle") return settleStock(store, hold);
	if (hold.state === "held") {
		// A crash may have come between recording the take and forgetting its mark; writes nothing otherwise.
		await forget(store, hold.productId, takeMark(hold));
		return false;
	}
	if (hold.state === "released") await endReleased(store, hold);
	else if ((await finishStale(store, hold)) === null) return false;
	return true;
}

/** As the hold's owner: takes its stock, or ends it when there is not enough or no product to take from. */
async function take(store: StockStore, hold: Hold): Promise<Exclude<ReserveOutcome, "held"> | "lost"> {
	const { query, update } = takeUpdate(hold, store.lacks);
	if (!(await store.updateProduct(query, update))) {
		const product = await store.productById(hold.productId);
		// Not marked: not taken, and no other call takes it for this hold (this one owns it).
		if (!product?.stockMarks?.includes(takeMark(hold))) {
			if (!(await store.removeHold(ownerQuery(hold)))) return "lost";
			return product?.active ? "out of stock" : "unknown product";
		}
	}
	if (!(await store.updateHold(ownerQuery(hold), { $set: { state: "held", since: nextSince(hold, store.now()) } }))) return "lost";
	await forget(store, hold.productId, takeMark(hold));
	return "taken";
}

/** As the hold's owner: gives its stock back (unless marked given already) and ends it. False when taken over meanwhile. */
async function give(store: StockStore, hold: Hold): Promise<boolean> {
	const { query, update } = giveUpdate(hold, store.lacks);
	await store.updateProduct(query, update);
	if (!(await store.updateHold(ownerQuery(hold), { $set: { state: "released", since: nextSince(hold, store.now()) } }))) return false;
	await endReleased(store, { ...hold, state: "released" });
	return true;
}

/** A released hold's last steps, safe for anyone at any time: its marks go, then the hold. */
async function endReleased(store: StockStore, hold: Hold): Promise<void> {
	await forget(store, hold.productId, takeMark(hold));
	await forget(store, hold.productId, giveMark(hold));
	await store.removeHold({ _id: hold._id, mark: hold.mark, state: "released" });
}

/**
 * A change in flight: waits while its call owns it (null: look again), else takes it over
 * and finishes it ("given" when that gave stock back).
 */
async function finishStale(store: StockStore, hold: Hold): Promise<"taken" | "given" | "ended" | null> {
	if (isLeased(hold, store.now(), store.leaseMs)) {
		await store.sleep(HOLD_WAIT_MS);
		return null;
	}
	const since = nextSince(hold, store.now());
	if (!(await store.updateHold(ownerQuery(hold), { $set: { since } }))) return null;
	const owned = { ...hold, since };
	if (owned.state === "releasing") return (await give(store, owned)) ? "given" : null;
	const outcome = await take(store, owned);
	if (outcome === "lost") return null;
	return outcome === "taken" ? "taken" : "ended";
}

async function forget(store: StockStore, productId: string, mark: string): Promise<void> {
	const { query, update } = forgetUpdate(productId, mark);
	await store.updateStockMarks(query, update);
}

/** An admin's correction by `delta` (either sign), refused by the store when it would go below zero. */
export function adjustUpdate(productId: string, delta: number, now: Date): ConditionalUpdate {
	return {
		query: { _id: productId, stock: { $gte: -delta } },
		update: { $inc: { stock: delta }, $set: { updatedAt: now.toISOString() } },
	};
}

/**
 * inventory.low goes out once each time a product's stock falls below the threshold: the
 * product remembers that it was reported (`lowStockReported`), set in the same write that
 * records the event in its outbox, and forgotten once the stock is back at the threshold.
 * The report names the stock it saw: it applies only while the stock is still that.
 */
export function lowStockReport(product: { _id: string; stock: number }, threshold: number): ConditionalUpdate | null {
	if (product.stock >= threshold) return null;
	return { query: { _id: product._id, stock: product.stock, lowStockReported: { $ne: true } }, update: { $set: { lowStockReported: true } } };
}

/** Forgets the report of a product whose stock is back at the threshold or above. */
export function lowStockRecovered(productId: string, threshold: number): ConditionalUpdate {
	return { query: { _id: productId, stock: { $gte: threshold }, lowStockReported: true }, update: { $set: { lowStockReported: false } } };
}
