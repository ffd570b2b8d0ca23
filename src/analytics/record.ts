/**
 * Recording one business event: the log entry, then the rollups. Plain TypeScript over a
 * small store port, so that it is tested without a broker or a database.
 *
 * Log entries and rollups are documents of one collection, told apart by `kind`, and
 * every document has a unique `key`: "event:<eventId>" for a log entry, the rollup's key
 * ("sales:2026-11-25:USD", ...) for a rollup. One unique index on a field that every
 * document has: no sparse index is needed (the db mixin cannot ask NeDB for one), and
 * the adapter's duplicate-key error is the only coordination between instances.
 *
 * Exactly once per event, without transactions (FerretDB has none): each write is
 * idempotent on its own, so a redelivery after a crash anywhere in between finishes the
 * job and counts nothing twice.
 * - the log entry is inserted once (its key holds the event id);
 * - each rollup keeps the ids of the last events it counted (`applied`), and its `$inc`
 *   is one conditional update `{ key, applied lacks eventId }` that also pushes the
 *   id: the count and the marker change together. A rollup that does not exist yet is
 *   inserted with the increments and the id; if another instance inserted it first
 *   (duplicate key), the conditional update is applied to theirs.
 * `applied` keeps the last APPLIED_WINDOW ids ($slice); a redelivery comes long before
 * that many newer events reach one rollup. (FerretDB 1.24 ignores $slice, so there the
 * list keeps growing; MongoDB and NeDB cut it.)
 */
import type { BusinessEvent } from "../events";
import { MalformedEventError, newRollup, rollupChanges, rollupUpdate, type RollupChange } from "./rollups";

export const EVENT_KEY_PREFIX = "event:";

/** An entry of the event log as stored. */
export type LogEntry = {
	kind: "event";
	key: string;
	eventId: string;
	type: string;
	at: string;
	data: unknown;
	receivedAt: string;
};

/** A log entry as the `events` action shows it. */
export type EventView = { eventId: string; type: string; at: string; data: unknown };

/** What recording needs from the database. */
export interface AnalyticsStore {
	/** Inserts a document; false (and nothing written) when a document with its `key` exists. */
	insertIfNew(doc: object): Promise<boolean>;
	/** One atomic update of the documents that match `query`; answers how many changed. */
	update(query: object, update: object): Promise<number>;
	/** The query part "the array `field` does not contain `value`" in the store's dialect. */
	lacks(field: string, value: string): object;
}

export function logEntry(event: BusinessEvent, receivedAt: Date): LogEntry {
	return {
		kind: "event",
		key: `${EVENT_KEY_PREFIX}${event.id}`,
		eventId: event.id,
		type: event.type,
		at: event.at,
		data: event.data,
		receivedAt: receivedAt.toISOString(),
	};
}

export function eventView(entry: LogEntry): EventView {
	return { eventId: entry.eventId, type: entry.type, at: entry.at, data: entry.data };
}

/** Log entries received before this time are past their retention (`retentionDays` days). */
export function retentionCutoff(now: Date, retentionDays: number): string {
	return new Date(now.getTime() - retentionDays * 24 * 60 * 60 * 1000).toISOString();
}

/** How many event ids a rollup remembers, to refuse a second count of the same event. */
export const APPLIED_WINDOW = 1000;

/** Adds one event's change to its rollup once, creating the rollup if it is the first. */
export async function applyRollup(store: AnalyticsStore, change: RollupChange, eventId: string): Promise<void> {
	const { query, update } = rollupUpdate(change);
	const guarded = { ...query, ...store.lacks("applied", eventId) };
	const once = { ...update, $push: { applied: { $each: [eventId], $slice: -APPLIED_WINDOW } } };
	if ((await store.update(guarded, once)) > 0) return;
	if (await store.insertIfNew({ ...newRollup(change), applied: [eventId] })) return;
	// It exists: counted already (the update matched nothing), or created by another instance meanwhile.
	await store.update(guarded, once);
}

/**
 * Records an event: its log entry and its rollups, each once however often it is
 * delivered. Answers false when the log entry was there already (a redelivery).
 * Throws MalformedEventError, before writing anything, for data it cannot count.
 */
export async function recordEvent(store: AnalyticsStore, event: BusinessEvent, now: Date): Promise<boolean> {
	if (typeof event?.id !== "string" || event.id.length === 0 || typeof event.type !== "string") {
		throw new MalformedEventError({ id: String(event?.id), type: String(event?.type) }, "id and type are required");
	}
	const changes = rollupChanges(event);
	const firstDelivery = await store.insertIfNew(logEntry(event, now));
	// Also on a redelivery: a crash may have come between the log entry and a rollup.
	for (const change of changes) await applyRollup(store, change, event.id);
	return firstDelivery;
}
