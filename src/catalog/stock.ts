/**
 * Stock rules. Every change is one conditional update that the store applies atomically,
 * so stock never goes below zero however many instances take from it at once: the
 * condition is part of the write, never a read before it.
 */

export const RESERVE_MAX_QUANTITY = 1000;
export const STOCK_MAX = 1_000_000_000;
export const ADJUST_MAX_DELTA = 1_000_000;

export type ConditionalUpdate = { query: Record<string, unknown>; update: Record<string, unknown> };

/** Takes `quantity` from an active product that has at least that much. */
export function reserveUpdate(productId: string, quantity: number): ConditionalUpdate {
	return {
		query: { _id: productId, active: true, stock: { $gte: quantity } },
		update: { $inc: { stock: -quantity } },
	};
}

/** Gives `quantity` back to a product, active or not (a past order may release it). */
export function releaseUpdate(productId: string, quantity: number): ConditionalUpdate {
	return { query: { _id: productId }, update: { $inc: { stock: quantity } } };
}

/** An admin's correction by `delta` (either sign), refused by the store when it would go below zero. */
export function adjustUpdate(productId: string, delta: number, now: Date): ConditionalUpdate {
	return {
		query: { _id: productId, stock: { $gte: -delta } },
		update: { $inc: { stock: delta }, $set: { updatedAt: now.toISOString() } },
	};
}

/** inventory.low goes out when the stock left is below the threshold. */
export function isLowStock(stock: number, threshold: number): boolean {
	return stock < threshold;
}
