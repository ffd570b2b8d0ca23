/**
 * Rollups: the counters the analytics reports read. Each business event turns into a
 * few changes, each `{ key, inc, init }`: add `inc` to the rollup document `key`, which
 * is created with the labels in `init` (and `set`) when it does not exist yet. No
 * Moleculer here, and no clock: the day of a rollup is the day the event happened (UTC).
 *
 * Every rollup keeps the same two counters, `count` and `amount` (minor units):
 *
 * | key                               | count                | amount          |
 * |-----------------------------------|----------------------|-----------------|
 * | events:<day>                      | events recorded      | -               |
 * | sales:<day>:<currency>            | orders paid          | revenue         |
 * | product:<productId>:<currency>    | units sold           | revenue         |
 * | signups:<day>                     | users registered     | -               |
 * | failures:<day>                    | payments that failed | -               |
 * | refunds:<day>:<currency>          | refunds              | amount refunded |
 * | cancellations:<day>               | orders cancelled     | -               |
 *
 * A product's rollup is per currency too, so that a revenue never adds up two currencies
 * (an admin may change a product's currency).
 */
import { MalformedEventError } from "../errors";
import type { BusinessEvent } from "../events";

export const DAY_METRICS = ["events", "sales", "signups", "failures", "refunds", "cancellations"] as const;
export type DayMetric = (typeof DAY_METRICS)[number];
export type Metric = DayMetric | "product";

export type Counters = { count?: number; amount?: number };

/** The labels a rollup document carries besides its counters, so that reports need not parse keys. */
export type RollupLabels = { metric: Metric; date?: string; currency?: string; productId?: string; name?: string };

export type RollupChange = {
	key: string;
	inc: Counters;
	/** Written when the rollup is created. */
	init: RollupLabels;
	/** Written every time (the latest wins), e.g. a product's name. */
	set?: Partial<RollupLabels>;
};

/**
 * A rollup as stored; its `_id` is its key, so that it is found without a scan. `batches`
 * and `epoch` are the roller's marks (src/analytics/roll.ts): the batch being counted into
 * it right now, and the lease of the last roller that wrote it.
 */
export type RollupDoc = RollupLabels & { _id: string; kind: "rollup"; key: string; count?: number; amount?: number; batches?: string[]; epoch?: number };

/** The UTC day (YYYY-MM-DD) of an ISO timestamp such as `2026-11-25T10:00:00.000Z`; undefined if it is not one. */
export function dayOf(at: unknown): string | undefined {
	const time = typeof at === "string" ? Date.parse(at) : Number.NaN;
	if (Number.isNaN(time)) return undefined;
	const iso = new Date(time).toISOString();
	// Years past 9999 (or before 0) have six digits and a sign: not a day this shop counts.
	return iso[10] === "T" ? iso.slice(0, 10) : undefined;
}

type Data = Record<string, unknown>;

function amountIn(event: BusinessEvent, field: string): number {
	const value = (event.data as Data)[field];
	if (!Number.isSafeInteger(value) || (value as number) < 0) throw new MalformedEventError(event, `${field} is not an amount in minor units`);
	return value as number;
}

function textIn(event: BusinessEvent, field: string, data: Data = event.data as Data): string {
	const value = data[field];
	if (typeof value !== "string" || value.length === 0) throw new MalformedEventError(event, `${field} is missing`);
	return value;
}

function dayChange(metric: DayMetric, day: string, inc: Counters, currency?: string): RollupChange {
	return {
		key: currency ? `${metric}:${day}:${currency}` : `${metric}:${day}`,
		inc,
		init: currency ? { metric, date: day, currency } : { metric, date: day },
	};
}

/** Units and revenue per product and currency, lines of one product added up. */
function productChanges(event: BusinessEvent, currency: string): RollupChange[] {
	const items = (event.data as Data).items;
	if (!Array.isArray(items)) throw new MalformedEventError(event, "items is not a list");
	const byKey = new Map<string, RollupChange>();
	for (const item of items as Data[]) {
		if (typeof item !== "object" || item === null) throw new MalformedEventError(event, "an item is not an object");
		const productId = textIn(event, "productId", item);
		const quantity = item.quantity;
		const lineTotal = item.lineTotal;
		if (!Number.isSafeInteger(quantity) || (quantity as number) < 0) throw new MalformedEventError(event, "an item's quantity is not a count");
		if (!Number.isSafeInteger(lineTotal) || (lineTotal as number) < 0) throw new MalformedEventError(event, "an item's lineTotal is not an amount");
		const key = `product:${productId}:${currency}`;
		const change = byKey.get(key) ?? { key, inc: { count: 0, amount: 0 }, init: { metric: "product", productId, currency } };
		change.inc = { count: (change.inc.count ?? 0) + (quantity as number), amount: (change.inc.amount ?? 0) + (lineTotal as number) };
		if (typeof item.name === "string") change.set = { name: item.name };
		byKey.set(key, change);
	}
	return [...byKey.values()];
}

/**
 * The rollup changes one event makes. Every event counts in `events:<day>`; the types
 * below count in their own rollups too; other types (product.*, shipped, ...) are only
 * logged. Throws MalformedEventError for data it cannot count.
 */
export function rollupChanges(event: BusinessEvent): RollupChange[] {
	const day = dayOf(event.at);
	if (!day) throw new MalformedEventError(event, "at is not a timestamp");
	const changes = [dayChange("events", day, { count: 1 })];
	switch (event.type) {
		case "order.paid": {
			const currency = textIn(event, "currency");
			changes.push(dayChange("sales", day, { count: 1, amount: amountIn(event, "total") }, currency), ...productChanges(event, currency));
			break;
		}
		case "user.registered":
			changes.push(dayChange("signups", day, { count: 1 }));
			break;
		case "payment.failed":
			changes.push(dayChange("failures", day, { count: 1 }));
			break;
		case "payment.refunded":
			changes.push(dayChange("refunds", day, { count: 1, amount: amountIn(event, "amount") }, textIn(event, "currency")));
			break;
		case "order.cancelled":
			changes.push(dayChange("cancellations", day, { count: 1 }));
			break;
	}
	return changes.map(withoutZeros).filter(change => Object.keys(change.inc).length > 0 || change.set);
}

/** Counters that would not change are left out: an update that changes nothing reports 0 documents changed. */
function withoutZeros(change: RollupChange): RollupChange {
	const inc = Object.fromEntries(Object.entries(change.inc).filter(([, value]) => value !== 0)) as Counters;
	return { ...change, inc };
}

/** The changes of many events as one per rollup: counters added up, the last `set` of each label winning. */
export function sumChanges(changes: RollupChange[]): RollupChange[] {
	const byKey = new Map<string, RollupChange>();
	for (const change of changes) {
		const sum = byKey.get(change.key);
		if (!sum) {
			byKey.set(change.key, { ...change, inc: { ...change.inc } });
			continue;
		}
		for (const [field, by] of Object.entries(change.inc) as [keyof Counters, number][]) sum.inc[field] = (sum.inc[field] ?? 0) + by;
		if (change.set) sum.set = { ...sum.set, ...change.set };
	}
	return [...byKey.values()];
}

/** The atomic update of an existing rollup. */
export function rollupUpdate(change: RollupChange): { query: { _id: string }; update: Record<string, object> } {
	const update: Record<string, object> = {};
	if (Object.keys(change.inc).length > 0) update.$inc = change.inc;
	if (change.set) update.$set = change.set;
	return { query: { _id: change.key }, update };
}

/** The rollup document to create when none has `change.key` yet. */
export function newRollup(change: RollupChange): RollupDoc {
	return { _id: change.key, kind: "rollup", key: change.key, ...change.init, ...change.set, count: 0, amount: 0, ...change.inc };
}
