/**
 * Giving memory back once a burst of work has passed. Under load V8 grows its young
 * generation (to some 130 MB in the embedded shop) and leaves garbage in the old one; an
 * idle process collects nothing, so it would keep all of that until the next burst. V8's own
 * memory reducer does not always start after one (it waits for a full collection that freed
 * much), so this broker middleware looks every few seconds: when the event loop has been
 * quiet for a while and the heap has grown since the last look, it runs one full collection,
 * after which V8 shrinks both generations to what is live (some 40 MB in the embedded shop).
 * A quiet process pays a pause of some tens of milliseconds; a busy one pays nothing.
 *
 * It needs `global.gc`, which Node gives with `--expose-gc` (`npm start`, the image). Without
 * it the middleware does nothing.
 */
import { performance, type EventLoopUtilization } from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";
import type { Middleware, ServiceBroker } from "moleculer";

/** What one look sees: how busy the event loop was since the last look, and the heap V8 holds. */
export type Sample = { eventLoopUtilization: number; heapBytes: number };

export type IdleReleaseOptions = {
	/** An event loop busy less than this share of the time is quiet. */
	quietUtilization: number;
	/** How many looks in a row must find it quiet. */
	quietLooks: number;
	/** How much the heap must have grown since the last collection of this kind to be worth one. */
	minGrowthBytes: number;
};

export const IDLE_RELEASE_DEFAULTS: IdleReleaseOptions = { quietUtilization: 0.05, quietLooks: 2, minGrowthBytes: 32 * 1024 * 1024 };

/** The time between two looks: with two quiet looks, memory goes back some 10 to 15 s after a burst. */
export const LOOK_INTERVAL_MS = 5_000;

/**
 * Decides, look by look, when a full collection is worth it: after `quietLooks` quiet looks
 * in a row, if the heap has grown by `minGrowthBytes` since the size it had after the last
 * one (or at the first look). A collection that leaves the heap large (what it holds is
 * live) sets the new size, so an idle process is never collected again and again.
 */
export class IdleWatch {
	private quietInARow = 0;
	private settledBytes: number | undefined;

	constructor(private readonly options: IdleReleaseOptions = IDLE_RELEASE_DEFAULTS) {}

	/** Answers whether to collect now. */
	look(sample: Sample): boolean {
		this.settledBytes ??= sample.heapBytes;
		this.quietInARow = sample.eventLoopUtilization < this.options.quietUtilization ? this.quietInARow + 1 : 0;
		return this.quietInARow >= this.options.quietLooks && sample.heapBytes - this.settledBytes >= this.options.minGrowthBytes;
	}

	/** The heap's size after a collection: the size to grow from before the next one. */
	collected(heapBytes: number): void {
		this.settledBytes = heapBytes;
		this.quietInARow = 0;
	}
}

const heapBytes = () => getHeapStatistics().total_heap_size;
const megabytes = (bytes: number) => `${Math.round(bytes / (1024 * 1024))} MB`;

/**
 * V8's most thorough collection (the one it runs before giving up for lack of memory): it
 * shrinks the young generation too, which a plain full collection leaves at its size.
 */
const collectAll = globalThis.gc && (() => globalThis.gc?.({ type: "major", execution: "sync", flavor: "last-resort" }));

/** `collect`: a full collection (`global.gc` by default; none, and the middleware is idle, without `--expose-gc`). */
export function idleMemoryRelease(collect: (() => void) | undefined = collectAll, intervalMs = LOOK_INTERVAL_MS): Middleware {
	let timer: NodeJS.Timeout | undefined;

	return {
		name: "IdleMemoryRelease",

		async started(broker: ServiceBroker) {
			if (!collect) return;
			const logger = broker.getLogger("memory");
			const watch = new IdleWatch();
			let since: EventLoopUtilization = performance.eventLoopUtilization();
			timer = setInterval(() => {
				const now = performance.eventLoopUtilization();
				const busy = performance.eventLoopUtilization(now, since).utilization;
				since = now;
				const before = heapBytes();
				if (!watch.look({ eventLoopUtilization: busy, heapBytes: before })) return;
				const started = performance.now();
				collect();
				const after = heapBytes();
				watch.collected(after);
				logger.info(`Idle: the heap went from ${megabytes(before)} to ${megabytes(after)} (a full collection, ${Math.round(performance.now() - started)} ms)`);
			}, intervalMs);
			timer.unref();
		},

		async stopped() {
			clearInterval(timer);
			timer = undefined;
		},
	};
}
