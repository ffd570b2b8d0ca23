/**
 * What a process does once a burst of work has passed: a broker middleware that looks every
 * few seconds, and when the event loop has been quiet for a while
 * 1. compacts the embedded store's files that took as many writes as they hold documents
 *    (`SqliteCollection.compact`): an order loses its outbox once its events are out, which
 *    leaves room in its page that new orders, written at the end of the file, never fill;
 *    one file after the other, in a worker thread, and no collection until they are done;
 * 2. gives memory back: under load V8 grows its young generation (to some 130 MB in the
 *    embedded shop) and leaves garbage in the old one, and an idle process collects nothing,
 *    so it would keep all of that until the next burst. V8's own memory reducer does not
 *    always start after one (it waits for a full collection that freed much). When the heap
 *    has grown since the last collection, one thorough collection shrinks both generations
 *    to what is live (some 50 MB in the embedded shop).
 * A quiet process pays a pause (a collection; the calls to a collection wait while its file
 * is copied); a busy one pays nothing.
 *
 * Giving memory back needs `global.gc`, which Node gives with `--expose-gc` (`npm start`, the
 * image); without it, that part does nothing.
 */
import { performance, type EventLoopUtilization } from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";
import type { Middleware, ServiceBroker } from "moleculer";
import { compactChurnedFiles, type CompactedFile } from "../storage/sqlite-collection";

/** What one look sees: how busy the event loop was since the last look, and the heap V8 holds. */
export type Sample = { eventLoopUtilization: number; heapBytes: number };

export type IdleOptions = {
	/** An event loop busy less than this share of the time is quiet. */
	quietUtilization: number;
	/** How many looks in a row must find it quiet. */
	quietLooks: number;
	/** How much the heap must have grown since the last collection of this kind to be worth one. */
	minGrowthBytes: number;
};

export const IDLE_DEFAULTS: IdleOptions = { quietUtilization: 0.05, quietLooks: 3, minGrowthBytes: 32 * 1024 * 1024 };

/** The time between two looks: with three quiet looks, the work starts some 6 s after a burst. */
export const LOOK_INTERVAL_MS = 2_000;

/**
 * The largest file compacted while the shop runs. The copy does not hold the event loop (a
 * worker thread writes it), but the calls to that one collection wait for it: some 1.5 to
 * 3 s for a file this large on the 2-core machine (200 to 400 MB a second), well within a
 * request's timeout (REQUEST_TIMEOUT, 10 s). A larger file is left as it is (README, Known limits).
 */
export const COMPACT_MAX_BYTES = 512 * 1024 * 1024;

/**
 * Follows the looks: the process is quiet after `quietLooks` quiet looks in a row, and a
 * collection is worth it then if the heap has grown by `minGrowthBytes` since the size it had
 * after the last one (or at the first look). A collection that leaves the heap large (what
 * it holds is live) sets the new size, so an idle process is never collected again and again.
 */
export class IdleWatch {
	private quietInARow = 0;
	private settledBytes: number | undefined;

	constructor(private readonly options: IdleOptions = IDLE_DEFAULTS) {}

	/** Takes in a look; answers whether the process is quiet now. */
	look(sample: Sample): boolean {
		this.settledBytes ??= sample.heapBytes;
		this.quietInARow = sample.eventLoopUtilization < this.options.quietUtilization ? this.quietInARow + 1 : 0;
		return this.quietInARow >= this.options.quietLooks;
	}

	/** Whether a collection is worth it, with the heap at `heapBytes` (asked while quiet). */
	worthCollecting(heapBytes: number): boolean {
		return heapBytes - (this.settledBytes ?? heapBytes) >= this.options.minGrowthBytes;
	}

	/** The heap's size after a collection: the size to grow from before the next one. */
	collected(heapBytes: number): void {
		this.settledBytes = heapBytes;
	}
}

/** The heap V8 holds (what it has taken from the system for its heap, garbage included). */
const totalHeapBytes = () => getHeapStatistics().total_heap_size;
const shownSize = (bytes: number) => (bytes < 1024 * 1024 ? `${Math.round(bytes / 1024)} KB` : `${Math.round(bytes / (1024 * 1024))} MB`);

/**
 * V8's most thorough collection (the one it runs before giving up for lack of memory): it
 * shrinks the young generation too, which a plain full collection leaves at its size.
 */
const collectAll = globalThis.gc && (() => globalThis.gc?.({ type: "major", execution: "sync", flavor: "last-resort" }));

export type IdleWork = {
	/** A full collection (none without `--expose-gc`). */
	collect?: () => void;
	/** Compacts the files worth it up to a size; answers each one compacted. */
	compact: (maxBytes: number) => Promise<CompactedFile[]>;
	/** The heap's size now. */
	heapBytes: () => number;
	intervalMs: number;
};

export function idleMaintenance({
	collect = collectAll,
	compact = compactChurnedFiles,
	heapBytes = totalHeapBytes,
	intervalMs = LOOK_INTERVAL_MS,
}: Partial<IdleWork> = {}): Middleware {
	// One middleware may serve several brokers of a process (tests): each has its own looks.
	const timers = new Map<ServiceBroker, NodeJS.Timeout>();

	return {
		name: "IdleMaintenance",

		async started(broker: ServiceBroker) {
			const logger = broker.getLogger("maintenance");
			const watch = new IdleWatch();
			let since: EventLoopUtilization = performance.eventLoopUtilization();
			let working = false;
			const timer = setInterval(async () => {
				if (working) return;
				const now = performance.eventLoopUtilization();
				const busy = performance.eventLoopUtilization(now, since).utilization;
				since = now;
				if (!watch.look({ eventLoopUtilization: busy, heapBytes: heapBytes() })) return;
				working = true;
				try {
					const compacted = await compact(COMPACT_MAX_BYTES);
					for (const file of compacted) logger.info(`Idle: compacted ${file.name} from ${shownSize(file.before)} to ${shownSize(file.after)} (${file.ms} ms)`);
					// Its own work is not load: the next look measures from here, and collects once every file is done.
					if (compacted.length > 0) return;
				} catch (err) {
					logger.error("Idle: compacting the store's files failed:", err);
				} finally {
					since = performance.eventLoopUtilization();
					working = false;
				}
				const before = heapBytes();
				if (!collect || !watch.worthCollecting(before)) return;
				const started = performance.now();
				collect();
				const after = heapBytes();
				watch.collected(after);
				logger.info(`Idle: the heap went from ${shownSize(before)} to ${shownSize(after)} (a full collection, ${Math.round(performance.now() - started)} ms)`);
				since = performance.eventLoopUtilization();
			}, intervalMs);
			timer.unref();
			timers.set(broker, timer);
		},

		async stopped(broker: ServiceBroker) {
			clearInterval(timers.get(broker));
			timers.delete(broker);
		},
	};
}
