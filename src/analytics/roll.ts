/**
 * The roller: counts the events waiting in the inbox (src/analytics/record.ts) into the
 * rollups, a batch at a time, each event exactly once, without transactions (FerretDB has
 * none). Plain TypeScript over a small store port, tested without a broker.
 *
 * One roller at a time, across instances: the one holding the lease on the job record
 * (`_id: "rollup-job"`, next to the rollups). Each take of the lease raises the job's
 * `epoch`, and every write to the job is conditional on the taker's epoch (and renews the
 * lease). The job records the batch in flight (its id and event ids), so that whoever takes
 * the lease next finishes that batch rather than starting another. A batch:
 * (a) each event's log entry is inserted with the batch id unless it exists: the events
 *     whose entry holds this batch id are the batch's to count (an entry of another batch
 *     means the event was counted before, and this is a redelivery);
 * (b) their rollup changes are added up in memory, and each rollup gets one conditional
 *     update: `$inc` and `$push batches <batchId>` where `batches` lacks the batch id (an
 *     insert for a new rollup; on a duplicate key the update again). Then the job says
 *     `batchCounted`;
 * (c) the batch id is pulled from those rollups, the events leave the inbox, and the job
 *     forgets the batch.
 * Every step is idempotent, so a crash anywhere and a take-over count each event once, and
 * a rollup's `batches` holds the batch in flight only: no document grows with history.
 *
 * A roller that stalls past its lease and wakes up after a take-over must not count its
 * batch again once (c) took the batch id off: each rollup update also requires that the
 * rollup's `epoch` is not above the writer's, and raises it, and (c) raises it too. The
 * taker's epoch is higher, so the stalled roller's late writes match nothing.
 */
import { randomUUID } from "node:crypto";
import { MalformedEventError } from "../errors";
import type { Collection, Keyed } from "../storage/collection";
import { eventOf, type InboxEntry, type LogEntry } from "./record";
import { newRollup, rollupChanges, rollupUpdate, sumChanges, type RollupChange } from "./rollups";

export const ROLLUP_JOB = "rollup-job";

/** The job record: who may roll (a lease) and the batch in flight. */
export type RollupJob = {
	_id: typeof ROLLUP_JOB;
	kind: "job";
	key: typeof ROLLUP_JOB;
	/** Raised by each take of the lease: the holder's token. */
	epoch: number;
	leaseUntil: string;
	batchId?: string | null;
	batchEvents?: string[];
	/** Every rollup of the batch has counted it; only (c) is left. */
	batchCounted?: boolean;
};

type Doc = Keyed & Record<string, unknown>;

/** What rolling needs from the three collections. */
export type RollStores = {
	inbox: Pick<Collection<InboxEntry>, "find" | "removeOne" | "removeMany">;
	log: Pick<Collection<LogEntry>, "byId" | "insertIfNew">;
	/** The service's main collection: the rollups and the job record. */
	main: Pick<Collection<Doc>, "byId" | "insertIfNew" | "updateOne">;
	/** The query part "the array `field` does not contain `value`" in the store's dialect. */
	lacks(field: string, value: string): object;
};

export type RollOptions = {
	/** Events per batch, at most. */
	batchSize: number;
	/** How long one step of a batch may take before another roller may take the batch over. */
	leaseMs: number;
	now: () => Date;
	/** An event in the inbox that cannot be counted: it is dropped, uncounted. */
	onMalformed: (entry: InboxEntry, err: MalformedEventError) => void;
	/** Checked between batches: true stops the roller (the rest waits for the next one). */
	stopping?: () => boolean;
};

const NO_LEASE = new Date(0).toISOString();

/**
 * Counts what waits in the inbox, batch by batch, while this roller holds the lease; answers
 * how many events it counted. Returns at once when another roller holds the lease: that one
 * looks at the inbox again after letting the lease go, so nothing let in meanwhile waits.
 */
export async function roll(stores: RollStores, options: RollOptions): Promise<number> {
	let counted = 0;
	while (!options.stopping?.() && (await hasWork(stores))) {
		const job = await takeLease(stores, options);
		if (!job) break;
		try {
			counted += await rollBatches(stores, job, options);
		} finally {
			await stores.main.updateOne({ _id: ROLLUP_JOB, epoch: job.epoch }, { $set: { leaseUntil: NO_LEASE } });
		}
	}
	return counted;
}

async function hasWork(stores: RollStores): Promise<boolean> {
	const job = (await stores.main.byId(ROLLUP_JOB)) as RollupJob | null;
	return Boolean(job?.batchId) || (await stores.inbox.find({}, { limit: 1 })).length > 0;
}

function leaseUntil(options: RollOptions): string {
	return new Date(options.now().getTime() + options.leaseMs).toISOString();
}

/** The job with this roller's epoch, or null when another roller holds the lease. */
async function takeLease(stores: RollStores, options: RollOptions): Promise<RollupJob | null> {
	const now = options.now().toISOString();
	const taken = await stores.main.updateOne({ _id: ROLLUP_JOB, leaseUntil: { $lt: now } }, { $inc: { epoch: 1 }, $set: { leaseUntil: leaseUntil(options) } });
	if (taken) return taken as RollupJob;
	const job: RollupJob = { _id: ROLLUP_JOB, kind: "job", key: ROLLUP_JOB, epoch: 1, leaseUntil: leaseUntil(options) };
	return (await stores.main.insertIfNew(job)) ? job : null;
}

/** Writes to the job while this roller holds the lease, renewing it; null when the lease was taken over. */
async function updateJob(stores: RollStores, epoch: number, set: Partial<RollupJob>, options: RollOptions): Promise<RollupJob | null> {
	return (await stores.main.updateOne({ _id: ROLLUP_JOB, epoch }, { $set: { ...set, leaseUntil: leaseUntil(options) } })) as RollupJob | null;
}

async function rollBatches(stores: RollStores, taken: RollupJob, options: RollOptions): Promise<number> {
	let job: RollupJob | null = taken;
	let counted = 0;
	while (job && !options.stopping?.()) {
		// The inbox entries of a batch this roller just started; a batch taken over is read again.
		let waiting: InboxEntry[] | undefined;
		if (!job.batchId) {
			waiting = await nextBatch(stores, options);
			if (waiting.length === 0) break;
			job = await updateJob(stores, job.epoch, { batchId: randomUUID(), batchEvents: waiting.map(entry => entry._id), batchCounted: false }, options);
			if (!job) break;
		}
		const owned = await ownedEntries(stores, job, waiting);
		job = await finishBatch(stores, job, owned, options);
		if (job) counted += owned.length;
	}
	return counted;
}

/** The inbox entries of the next events to count, oldest first; drops those that cannot be counted. */
async function nextBatch(stores: RollStores, options: RollOptions): Promise<InboxEntry[]> {
	for (;;) {
		const waiting = await stores.inbox.find({}, { sort: { receivedAt: 1 }, limit: options.batchSize });
		if (waiting.length === 0) return [];
		const countable: InboxEntry[] = [];
		for (const entry of waiting) {
			try {
				rollupChanges(eventOf(entry));
				countable.push(entry);
			} catch (err) {
				if (!(err instanceof MalformedEventError)) throw err;
				options.onMalformed(entry, err);
				await stores.inbox.removeOne({ _id: entry._id });
			}
		}
		if (countable.length > 0) return countable;
	}
}

/**
 * (a) The log entries of the events this batch counts, oldest first; inserts those not logged
 * yet (unless already counted). `read`: the batch's inbox entries, when this roller has just read them.
 */
async function ownedEntries(stores: RollStores, job: RollupJob, read?: InboxEntry[]): Promise<LogEntry[]> {
	const batchId = job.batchId as string;
	const ids = job.batchEvents ?? [];
	// Once counted, the events may have left the inbox: their log entries say everything.
	const waiting = job.batchCounted ? [] : (read ?? (await stores.inbox.find({ _id: { $in: ids } })));
	const byId = new Map(waiting.map(entry => [entry._id, entry]));
	const entries = await Promise.all(
		ids.map(async id => {
			const event = byId.get(id);
			const entry: LogEntry | undefined = event && { ...event, batchId };
			return entry && (await stores.log.insertIfNew(entry)) ? entry : stores.log.byId(id);
		}),
	);
	return entries.filter((entry): entry is LogEntry => entry?.batchId === batchId).sort((a, b) => a.at.localeCompare(b.at));
}

/** (b) and (c); answers the job without the batch, or null when the lease was taken over (the taker finishes). */
async function finishBatch(stores: RollStores, job: RollupJob, owned: LogEntry[], options: RollOptions): Promise<RollupJob | null> {
	const batchId = job.batchId as string;
	const changes = sumChanges(owned.flatMap(entry => rollupChanges(eventOf(entry))));
	if (!job.batchCounted) {
		await Promise.all(changes.map(change => applyBatch(stores, change, batchId, job.epoch)));
		if (!(await updateJob(stores, job.epoch, { batchCounted: true }, options))) return null;
	}
	await Promise.all(changes.map(change => stores.main.updateOne({ _id: change.key }, { $pull: { batches: batchId }, $max: { epoch: job.epoch } })));
	await stores.inbox.removeMany({ _id: { $in: job.batchEvents ?? [] } });
	return updateJob(stores, job.epoch, { batchId: null, batchEvents: [], batchCounted: false }, options);
}

/** Adds a batch's sum to one rollup once, creating the rollup if it is the first; a roller whose lease was taken over writes nothing. */
export async function applyBatch(stores: RollStores, change: RollupChange, batchId: string, epoch: number): Promise<void> {
	const { query, update } = rollupUpdate(change);
	const guarded = { ...query, ...stores.lacks("batches", batchId), $or: [{ epoch: { $exists: false } }, { epoch: { $lte: epoch } }] };
	const once = { ...update, $set: { ...update.$set, epoch }, $push: { batches: batchId } };
	if (await stores.main.updateOne(guarded, once)) return;
	if (await stores.main.insertIfNew({ ...newRollup(change), batches: [batchId], epoch })) return;
	// It exists: counted already, or created by another roller meanwhile (a take-over).
	await stores.main.updateOne(guarded, once);
}
