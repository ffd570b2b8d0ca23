import type { BusinessEvent } from "../../src/events";
import { MalformedEventError } from "../../src/errors";
import {
	ANALYTICS_LOG,
	EVENTS_PAGE_SORT,
	eventView,
	inboxEntry,
	receiveEvent,
	retentionCutoff,
	type InboxEntry,
	type LogEntry,
} from "../../src/analytics/record";
import { openCollection } from "../../src/storage/collection";
import type { SqliteCollection } from "../../src/storage/sqlite-collection";

const NOW = new Date("2026-11-25T12:00:00.000Z");

const paid: BusinessEvent = {
	id: "evt-1",
	type: "order.paid",
	at: "2026-11-25T10:00:00.000Z",
	data: { orderId: "o1", total: 2000, currency: "USD", items: [{ productId: "p1", name: "Mug", unitPrice: 1000, quantity: 2, lineTotal: 2000 }] },
};

function stores() {
	return {
		inbox: openCollection<InboxEntry>({ name: `inbox-${Math.random()}` }),
		log: openCollection<LogEntry>({ name: `log-${Math.random()}` }),
	};
}

it("lets an event into the inbox once, however often it is delivered", async () => {
	const s = stores();
	expect(await receiveEvent(s, paid, NOW)).toBe(true);
	expect(await receiveEvent(s, paid, new Date(NOW.getTime() + 1000))).toBe(false);
	expect(await s.inbox.find({})).toEqual([{ _id: "evt-1", type: "order.paid", at: paid.at, data: paid.data, receivedAt: NOW.toISOString() }]);
});

it("keeps no one's address or name: a sign-up waits, is logged and shown by the account's id only", async () => {
	const s = stores();
	const registered: BusinessEvent = {
		id: "evt-2",
		type: "user.registered",
		at: NOW.toISOString(),
		data: { userId: "u1", email: "ada@example.com", name: "Ada" },
	};
	expect(await receiveEvent(s, registered, NOW)).toBe(true);
	const [waiting] = await s.inbox.find({});
	expect(waiting.data).toEqual({ userId: "u1" });
	expect(eventView({ ...waiting, batchId: "b1" }).data).toEqual({ userId: "u1" });
	// The event itself, which other services read, keeps them.
	expect(registered.data).toEqual({ userId: "u1", email: "ada@example.com", name: "Ada" });
});

it("fails an event it cannot count before writing anything, so that it is retried and then dead-lettered", async () => {
	const s = stores();
	await expect(receiveEvent(s, { ...paid, data: { ...paid.data, total: "lots" } }, NOW)).rejects.toThrow(MalformedEventError);
	await expect(receiveEvent(s, { type: "order.paid" } as BusinessEvent, NOW)).rejects.toThrow(/id and type/);
	await expect(receiveEvent(s, { ...paid, at: "yesterday" }, NOW)).rejects.toThrow(/at is not a timestamp/);
	expect(await s.inbox.count()).toBe(0);
});

it("shows a log entry as the event it was, and dates the end of retention", () => {
	expect(eventView({ ...inboxEntry(paid, NOW), batchId: "b1" })).toEqual({ eventId: "evt-1", type: "order.paid", at: paid.at, data: paid.data });
	expect(retentionCutoff(NOW, 90)).toBe("2026-08-27T12:00:00.000Z");
});

it("reads a page of the log, of every type or of one, and the entries past retention, from an index, however long the log", () => {
	const log = openCollection<LogEntry>(ANALYTICS_LOG) as unknown as SqliteCollection<LogEntry>;
	try {
		const page = log.plan({}, EVENTS_PAGE_SORT).join(" | ");
		const ofOneType = log.plan({ type: "order.paid" }, EVENTS_PAGE_SORT).join(" | ");
		expect(page).toMatch(/USING INDEX by_at\b/);
		expect(ofOneType).toMatch(/USING INDEX by_type_at\b/);
		// Ties of `at` are ordered by receivedAt as they come; no sort of the whole log, or of a whole type.
		for (const plan of [page, ofOneType]) expect(plan).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
		expect(log.plan({ receivedAt: { $lt: NOW.toISOString() } }).join()).toMatch(/USING (COVERING )?INDEX by_receivedAt\b/);
	} finally {
		log.close();
	}
});
