/**
 * The outbox (docs/architecture.md "What a write owes"): a write that owes events records them in
 * the same atomic document write as the change itself, in the document's `outbox`; a
 * relay publishes them and then takes them off, one conditional update each. A crash,
 * a timeout or a bus outage between the write and the publish only delays an event.
 *
 * The outbox is a map `eventId -> event` plus a count, so that taking one event off is a
 * plain `$unset` of its key (no `$pull` with a condition, which FerretDB 1.24 lacks), and
 * the documents that owe events are found by `outboxSize > 0`. A document holds only
 * what is not yet published, so it never grows with history. The outbox and its count exist
 * only while something is owed (the last event taken off takes both): the count's index is
 * sparse, so it holds the documents that owe events, not every document ever written.
 */
import type { BusinessEvent } from "../events";

export type Outbox = Record<string, BusinessEvent>;

/** The outbox part of a stored document. */
export type OutboxFields = { outbox?: Outbox; outboxSize?: number };

type Update = Record<string, Record<string, unknown> | undefined>;

/** The outbox fields of a document inserted together with the events its insert owes. */
export function outboxOnInsert(events: readonly BusinessEvent[]): OutboxFields {
	if (events.length === 0) return {};
	return { outbox: Object.fromEntries(events.map(event => [event.id, event])), outboxSize: events.length };
}

/** A MongoDB-style update that also records `events` in the document's outbox, in the same write. */
export function withOutbox<U extends object>(update: U, events: readonly BusinessEvent[]): U {
	if (events.length === 0) return update;
	const { $set = {}, $inc = {}, ...rest } = update as Update;
	return {
		...rest,
		$set: { ...$set, ...Object.fromEntries(events.map(event => [`outbox.${event.id}`, event])) },
		$inc: { ...$inc, outboxSize: events.length },
	} as U;
}

/**
 * The conditional update that takes one published event off its document; a second one
 * changes nothing. `last`: the document owed only this event when it was read; the update
 * then takes the whole outbox and its count off, and matches nothing should another event
 * have come meanwhile.
 */
export function takenOff(docId: string, eventId: string, last = false): { query: object; update: object } {
	const key = `outbox.${eventId}`;
	if (last) return { query: { _id: docId, [key]: { $exists: true }, outboxSize: 1 }, update: { $unset: { outbox: "", outboxSize: "" } } };
	return { query: { _id: docId, [key]: { $exists: true } }, update: { $unset: { [key]: "" }, $inc: { outboxSize: -1 } } };
}

/** The events a document still owes, oldest first. */
export function pendingEvents(doc: OutboxFields): BusinessEvent[] {
	return Object.values(doc.outbox ?? {}).sort((a, b) => a.at.localeCompare(b.at));
}

/** How many events these documents owe in all. */
export function owedEvents(docs: readonly OutboxFields[]): number {
	return docs.reduce((sum, doc) => sum + (doc.outboxSize ?? 0), 0);
}

/** The query of the documents that owe events. */
const OWES_EVENTS = { outboxSize: { $gt: 0 } } as const;

/** The query of the documents that owe events, other than those of `except` (ids). */
export function owingExcept(except: readonly string[] = []): object {
	return except.length > 0 ? { ...OWES_EVENTS, _id: { $nin: except } } : OWES_EVENTS;
}

export interface OutboxStore {
	/** Documents that owe events, at most `limit`, other than those of `except` (ids). */
	owing(limit: number, except?: readonly string[]): Promise<({ _id: string } & OutboxFields)[]>;
	byId(id: string): Promise<({ _id: string } & OutboxFields) | null>;
	update(query: object, update: object): Promise<number>;
}

/**
 * Publishes what one document owes, oldest first, taking each event off once it is
 * published. Stops at the first publish that fails (the rest stay, in order, for the next
 * run). Answers how many events it published.
 */
export async function relayDocument(
	store: OutboxStore,
	publish: (event: BusinessEvent) => Promise<void>,
	doc: { _id: string } & OutboxFields,
): Promise<number> {
	let published = 0;
	const events = pendingEvents(doc);
	for (const event of events) {
		await publish(event);
		// The last one takes the count too, unless another event came meanwhile.
		const last = published === events.length - 1 && doc.outboxSize === events.length;
		const withCount = takenOff(doc._id, event.id, true);
		if (!last || (await store.update(withCount.query, withCount.update)) === 0) {
			const { query, update } = takenOff(doc._id, event.id);
			await store.update(query, update);
		}
		published += 1;
	}
	return published;
}
