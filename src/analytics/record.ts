/**
 * Receiving a business event: one cheap write per delivery. The event waits in the inbox
 * (`analytics_inbox`, keyed by event id) until the roller (src/analytics/roll.ts) counts it
 * with the others of its batch and moves it to the log (`analytics_log`, keyed by event id,
 * kept for a while). Plain TypeScript over a small store port, tested without a broker.
 *
 * A delivery is at least once: a duplicate key means the event waits already, and a log
 * entry means it was counted already. Skipping the latter saves the roller a look, nothing
 * more: the roller counts an event once even if it is let into the inbox again.
 */
import type { BusinessEvent, EventPayloads, EventType } from "../events";
import { MalformedEventError } from "../errors";
import type { Collection, CollectionSpec } from "../storage/collection";
import { rollupChanges } from "./rollups";

/** An event waiting to be counted; its `_id` is the event's id. */
export type InboxEntry = { _id: string; type: string; at: string; data: unknown; receivedAt: string };

/** An entry of the event log: the event as counted, and the batch that counted it. */
export type LogEntry = InboxEntry & { batchId: string };

/** The inbox's collection: the roller takes the oldest received first (src/analytics/roll.ts). */
export const ANALYTICS_INBOX: CollectionSpec = { name: "analytics_inbox", indexes: ["receivedAt"] };

/**
 * The log's collection: the purge goes by `receivedAt`; the events page newest first, by
 * `at`, or by `type` then `at` (so that a page of one type reads that page only, however long the log).
 */
export const ANALYTICS_LOG: CollectionSpec = { name: "analytics_log", indexes: ["receivedAt", "at", ["type", "at"]] };

/** The order of the events page: newest first (and of the same moment, the one received last). */
export const EVENTS_PAGE_SORT = { at: -1, receivedAt: -1 } as const;

/** A log entry as the `events` action shows it. */
export type EventView = { eventId: string; type: string; at: string; data: unknown };

/** What receiving needs: the inbox to write, the log to look in. */
export type ReceiveStores = { inbox: Pick<Collection<InboxEntry>, "insertIfNew"> };

/**
 * The fields of an event's data that say who a person is, which analytics neither counts nor
 * keeps: its log is kept for ANALYTICS_RETENTION_DAYS and shown on the events page. The
 * account's id stays (it names no one outside the shop).
 */
const PERSONAL_FIELDS: { [T in EventType]?: readonly (keyof EventPayloads[T])[] } = { "user.registered": ["email", "name"] };

/** An event's data as analytics keeps it: without the fields of PERSONAL_FIELDS. */
export function keptData(event: BusinessEvent): unknown {
	const personal: readonly string[] | undefined = PERSONAL_FIELDS[event.type as EventType];
	if (!personal || typeof event.data !== "object" || event.data === null) return event.data;
	return Object.fromEntries(Object.entries(event.data).filter(([field]) => !personal.includes(field)));
}

export function inboxEntry(event: BusinessEvent, receivedAt: Date): InboxEntry {
	return { _id: event.id, type: event.type, at: event.at, data: keptData(event), receivedAt: receivedAt.toISOString() };
}

/** The event an inbox or log entry holds, as rollupChanges reads it. */
export function eventOf(entry: InboxEntry): BusinessEvent {
	return { id: entry._id, type: entry.type, at: entry.at, data: entry.data } as BusinessEvent;
}

export function eventView(entry: LogEntry): EventView {
	return { eventId: entry._id, type: entry.type, at: entry.at, data: entry.data };
}

/** Log entries received before this time are past their retention (`retentionDays` days). */
export function retentionCutoff(now: Date, retentionDays: number): string {
	return new Date(now.getTime() - retentionDays * 24 * 60 * 60 * 1000).toISOString();
}

/** Throws MalformedEventError for an event that cannot be counted, so that it never waits in the inbox. */
export function checkEvent(event: BusinessEvent): void {
	if (typeof event?.id !== "string" || event.id.length === 0 || typeof event.type !== "string") {
		throw new MalformedEventError({ id: String(event?.id), type: String(event?.type) }, "id and type are required");
	}
	rollupChanges(event);
}

/**
 * Lets an event into the inbox unless it waits there already; answers true when it was let
 * in. One write: an event counted before (a redelivery) is let in too, and the roller drops
 * it, as its log entry belongs to an earlier batch (src/analytics/roll.ts). Throws
 * MalformedEventError, before writing anything, for data it cannot count: the delivery
 * fails, is retried and then dead-lettered.
 */
export async function receiveEvent(stores: ReceiveStores, event: BusinessEvent, now: Date): Promise<boolean> {
	checkEvent(event);
	return stores.inbox.insertIfNew(inboxEntry(event, now));
}
