/**
 * Recording one business event: the log entry, then the rollups. Plain TypeScript over a
 * small store port, so that it is tested without a broker or a database.
 *
 * Log entries and rollups are documents of one collection, told apart by `kind`, and
 * every document's `_id` is its key: "event:<eventId>" for a log entry, the rollup's key
 * ("sales:2026-11-25:USD", ...) for a rollup. Unique, found without a scan, and the
 * adapter's duplicate-key error is the only coordination between instances.
 *
 * Exactly once per event, at any redelivery delay, without transactions (FerretDB has
 * none): each write is idempotent on its own, so a redelivery after a crash anywhere in
 * between finishes the job and counts nothing twice.
 * - the log entry is inserted once (its key holds the event id) with `counted: false` and
 *   a lease: only the delivery that holds it counts the event (another delivery of it at
 *   the same moment is told to come again later; one after the lease ran out takes over);
 * - each rollup's `$inc` is one conditional update `{ _id: key, applied lacks eventId }` that
 *   also adds the id to the rollup's `applied`: the count and the marker change together.
 *   A rollup that does not exist yet is inserted with the increments and the id; if
 *   another instance inserted it first (duplicate key), the conditional update is applied
 *   to theirs;
 * - once every rollup is counted, the log entry becomes `counted: true`, and only then is
 *   the id taken out of each rollup's `applied` again.
 * A redelivery of a counted event only takes its id out again (should a crash have come
 * before that). So `applied` holds the ids of the events being counted right now, not a
 * window of recent ones: no rate of traffic makes a redelivery count twice, and no
 * rollup grows with history.
 */
import { randomUUID } from "node:crypto";
import type { BusinessEvent } from "../events";
import { EventBeingCountedError, MalformedEventError } from "../errors";
import { newRollup, rollupChanges, rollupUpdate, type RollupChange } from "./rollups";

export const EVENT_KEY_PREFIX = "event:";

/** An entry of the event log as stored; its `_id` is its key, so that it is found without a scan. */
export type LogEntry = {
	_id: string;
	kind: "event";
	key: string;
	eventId: string;
	type: string;
	at: string;
	data: unknown;
	receivedAt: string;
	/** Every rollup of the event has counted it. */
	counted: boolean;
	/** The delivery counting it, until when (a lease). */
	countingBy?: string;
	countingUntil?: string;
};

/** A log entry as the `events` action shows it. */
export type EventView = { eventId: string; type: string; at: string; data: unknown };

/** What recording needs from the database. */
export interface AnalyticsStore {
	/** Inserts a document; false (and nothing written) when a document with its `_id` exists. */
	insertIfNew(doc: object): Promise<boolean>;
	/** The document with this `_id`, or null. */
	byId(id: string): Promise<object | null>;
	/** One atomic update of the documents that match `query`; answers how many changed. */
	update(query: object, update: object): Promise<number>;
	/** The query part "the array `field` does not contain `value`" in the store's dialect. */
	lacks(field: string, value: string): object;
}

export function logEntry(event: BusinessEvent, receivedAt: Date): LogEntry {
	return {
		_id: `${EVENT_KEY_PREFIX}${event.id}`,
		kind: "event",
		key: `${EVENT_KEY_PREFIX}${event.id}`,
		eventId: event.id,
		type: event.type,
		at: event.at,
		data: event.data,
		receivedAt: receivedAt.toISOString(),
		counted: false,
	};
}

export function eventView(entry: LogEntry): EventView {
	return { eventId: entry.eventId, type: entry.type, at: entry.at, data: entry.data };
}

/** Log entries received before this time are past their retention (`retentionDays` days). */
export function retentionCutoff(now: Date, retentionDays: number): string {
	return new Date(now.getTime() - retentionDays * 24 * 60 * 60 * 1000).toISOString();
}

/** Adds one event's change to its rollup once, creating the rollup if it is the first. */
export async function applyRollup(store: AnalyticsStore, change: RollupChange, eventId: string): Promise<void> {
	const { query, update } = rollupUpdate(change);
	const guarded = { ...query, ...store.lacks("applied", eventId) };
	const once = { ...update, $push: { applied: eventId } };
	if ((await store.update(guarded, once)) > 0) return;
	if (await store.insertIfNew({ ...newRollup(change), applied: [eventId] })) return;
	// It exists: counted already (the update matched nothing), or created by another instance meanwhile.
	await store.update(guarded, once);
}

/**
 * Records an event: its log entry and its rollups, each once however often and however
 * late it is delivered. Answers false when the event had been counted already.
 * Throws MalformedEventError, before writing anything, for data it cannot count.
 */
export async function recordEvent(store: AnalyticsStore, event: BusinessEvent, now: Date): Promise<boolean> {
	if (typeof event?.id !== "string" || event.id.length === 0 || typeof event.type !== "string") {
		throw new MalformedEventError({ id: String(event?.id), type: String(event?.type) }, "id and type are required");
	}
	const changes = rollupChanges(event);
	const entryKey = `${EVENT_KEY_PREFIX}${event.id}`;
	const lease = { countingBy: randomUUID(), countingUntil: new Date(now.getTime() + COUNTING_LEASE_MS).toISOString() };
	if (!(await store.insertIfNew({ ...logEntry(event, now), ...lease }))) {
		const entry = (await store.byId(entryKey)) as Partial<LogEntry> | null;
		// An entry without `counted` was written before the lease existed, when each delivery counted it whole.
		if (entry?.counted !== false) {
			await forgetApplied(store, changes, event.id);
			return false;
		}
		// Not counted yet: take over from a delivery that died, unless one is counting it right now.
		const taken = await store.update({ _id: entryKey, counted: false, countingUntil: { $lt: now.toISOString() } }, { $set: lease });
		if (taken === 0) throw new EventBeingCountedError(event);
	}
	// Also after a take-over: a crash may have come between two rollups.
	for (const change of changes) await applyRollup(store, change, event.id);
	// Only the holder of the lease marks it counted; one whose lease was taken over leaves that to the new holder.
	if ((await store.update({ _id: entryKey, countingBy: lease.countingBy }, { $set: { counted: true } })) === 0) throw new EventBeingCountedError(event);
	await forgetApplied(store, changes, event.id);
	return true;
}

/** Takes a counted event's id out of its rollups: nobody counts it again (its log entry says counted). */
async function forgetApplied(store: AnalyticsStore, changes: RollupChange[], eventId: string): Promise<void> {
	for (const change of changes) await store.update({ _id: change.key }, { $pull: { applied: eventId } });
}

/** How long one delivery may take to count an event before another may take over. */
export const COUNTING_LEASE_MS = 60_000;
