/**
 * Stock rules. Every change is one conditional update that the store applies atomically,
 * so stock never goes below zero however many instances take from it at once: the
 * condition is part of the write, never a read before it.
 *
 * A product keeps the ids of the orders that hold some of its stock (`holds`). Taking
 * stock for an order adds its id in the same write, and giving it back removes it, so
 * both are idempotent: an order retried, or compensated after a crash, takes and gives
 * back its stock exactly once. A hold ends when the order is delivered (settled).
 */

export const RESERVE_MAX_QUANTITY = 1000;
export const STOCK_MAX = 1_000_000_000;
export const ADJUST_MAX_DELTA = 1_000_000;

export type ConditionalUpdate = { query: Record<string, unknown>; update: Record<string, unknown> };

/** The store's way to say "the array `field` does not contain `value`" (db mixin `lacks`). */
export type Lacks = (field: string, value: string) => object;

/** Takes `quantity` for `orderId` from an active product that has that much, unless the order holds some already. */
export function reserveUpdate(productId: string, quantity: number, orderId: string, lacks: Lacks): ConditionalUpdate {
	return {
		query: { _id: productId, active: true, stock: { $gte: quantity }, ...lacks("holds", orderId) },
		update: { $inc: { stock: -quantity }, $push: { holds: orderId } },
	};
}

/** Gives back what `orderId` holds of a product, active or not; nothing if it holds none. */
export function releaseUpdate(productId: string, quantity: number, orderId: string): ConditionalUpdate {
	return { query: { _id: productId, holds: orderId }, update: { $inc: { stock: quantity }, $pull: { holds: orderId } } };
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

/** Ends the hold of a delivered order: its stock is sold for good. */
export function settleUpdate(productId: string, orderId: string): ConditionalUpdate {
	return { query: { _id: productId, holds: orderId }, update: { $pull: { holds: orderId } } };
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
