import { ServiceBroker } from "moleculer";
import { IdleWatch, idleMaintenance } from "../../src/maintenance/when-idle";
import type { CompactedFile } from "../../src/storage/sqlite-collection";

const MB = 1024 * 1024;
const options = { quietUtilization: 0.05, quietLooks: 2, minGrowthBytes: 32 * MB };
const busy = (heapMb: number) => ({ eventLoopUtilization: 0.8, heapBytes: heapMb * MB });
const quiet = (heapMb: number) => ({ eventLoopUtilization: 0.01, heapBytes: heapMb * MB });

/** Each look as the middleware takes it: quiet or not, and if quiet, whether it would collect (and then does). */
function looks(watch: IdleWatch, samples: ReturnType<typeof quiet>[], leftAfterCollecting = 45 * MB): string[] {
	return samples.map(sample => {
		if (!watch.look(sample)) return "-";
		if (!watch.worthCollecting(sample.heapBytes)) return "quiet";
		watch.collected(leftAfterCollecting);
		return "collect";
	});
}

describe("the idle watch", () => {
	it("is never quiet while the event loop is busy, however much the heap grew", () => {
		expect(looks(new IdleWatch(options), [busy(40), busy(120), busy(200), busy(260)])).toEqual(["-", "-", "-", "-"]);
	});

	it("is quiet after two quiet looks in a row, and collects then once the heap grew, not again while it stays quiet", () => {
		const watch = new IdleWatch(options);
		expect(looks(watch, [quiet(40), busy(180), quiet(180), quiet(180), quiet(45), quiet(46), quiet(50)])).toEqual([
			"-",
			"-",
			"-",
			"collect",
			"quiet",
			"quiet",
			"quiet",
		]);
	});

	it("starts counting again when a busy look comes between two quiet ones", () => {
		const watch = new IdleWatch(options);
		expect(looks(watch, [busy(40), quiet(200), busy(200), quiet(200), quiet(200)])).toEqual(["-", "-", "-", "-", "collect"]);
	});

	it("does not collect when the heap grew by less than the threshold since the last collection", () => {
		const watch = new IdleWatch(options);
		expect(looks(watch, [quiet(100), quiet(100), busy(120), quiet(120), quiet(131), quiet(133)], 100 * MB)).toEqual([
			"-",
			"quiet",
			"-",
			"-",
			"quiet",
			"collect",
		]);
	});

	it("collects again after the next burst, from the size the last collection left", () => {
		const watch = new IdleWatch(options);
		expect(looks(watch, [busy(40), quiet(200), quiet(200)], 150 * MB)).toEqual(["-", "-", "collect"]);
		expect(looks(watch, [busy(175), quiet(175), quiet(175), busy(190), quiet(190), quiet(190)], 150 * MB)).toEqual(["-", "-", "quiet", "-", "-", "collect"]);
	});
});

describe("the idle maintenance of a broker", () => {
	const idle = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));
	/** Waits until `done` holds (the looks run on real timers, later on a busy machine). */
	async function until(done: () => boolean, timeoutMs = 5_000): Promise<void> {
		for (const end = Date.now() + timeoutMs; !done(); await idle(10)) if (Date.now() > end) throw new Error("timed out");
	}
	it("compacts the store's files and collects once the process went quiet after the heap grew, and collects no more while what it holds is live", async () => {
		let heap = 100 * MB;
		const collect = jest.fn();
		const compact = jest.fn(async () => []);
		const broker = new ServiceBroker({ logger: false, middlewares: [idleMaintenance({ collect, compact, heapBytes: () => heap, intervalMs: 25 })] });
		await broker.start();
		try {
			await until(() => compact.mock.calls.length > 0);
			expect(compact).toHaveBeenCalledWith(512 * MB);
			expect(collect).not.toHaveBeenCalled();
			// The heap grows by more than the threshold, and what it holds is live: the collection leaves it as it is.
			heap = 180 * MB;
			await until(() => collect.mock.calls.length > 0);
			await idle(300);
			expect(collect).toHaveBeenCalledTimes(1);
		} finally {
			await broker.stop();
		}
	});

	it("collects only once no file is left to compact", async () => {
		let heap = 100 * MB;
		const collect = jest.fn(() => (heap = 60 * MB));
		const file = { name: "orders", before: 2 * MB, after: MB, ms: 1 };
		const compact = jest
			.fn()
			.mockImplementationOnce(async () => {
				heap = 200 * MB;
				return [file];
			})
			.mockResolvedValueOnce([{ ...file, name: "payments" }])
			.mockResolvedValue([]);
		const broker = new ServiceBroker({ logger: false, middlewares: [idleMaintenance({ collect, compact, heapBytes: () => heap, intervalMs: 25 })] });
		await broker.start();
		try {
			await until(() => collect.mock.calls.length > 0);
			expect(compact.mock.calls.length).toBeGreaterThanOrEqual(3);
			expect(collect.mock.invocationCallOrder[0]).toBeGreaterThan(compact.mock.invocationCallOrder[2]);
		} finally {
			await broker.stop();
		}
	});

	it("takes no look while a compaction is under way", async () => {
		let finish!: () => void;
		const compact = jest
			.fn()
			.mockImplementationOnce(() => new Promise<CompactedFile[]>(resolve => (finish = () => resolve([]))))
			.mockResolvedValue([]);
		const broker = new ServiceBroker({ logger: false, middlewares: [idleMaintenance({ collect: jest.fn(), compact, intervalMs: 25 })] });
		await broker.start();
		try {
			await until(() => compact.mock.calls.length > 0);
			await idle(200);
			expect(compact).toHaveBeenCalledTimes(1);
			finish();
			await until(() => compact.mock.calls.length > 1);
		} finally {
			await broker.stop();
		}
	});

	it("looks for each broker it serves on its own: one that stops leaves the other looking", async () => {
		const compact = jest.fn(async () => []);
		const middleware = idleMaintenance({ collect: jest.fn(), compact, intervalMs: 25 });
		const [first, second] = [new ServiceBroker({ logger: false, middlewares: [middleware] }), new ServiceBroker({ logger: false, middlewares: [middleware] })];
		await first.start();
		await second.start();
		await first.stop();
		const calls = compact.mock.calls.length;
		await until(() => compact.mock.calls.length > calls);
		await second.stop();
		const afterBoth = compact.mock.calls.length;
		await idle(200);
		expect(compact).toHaveBeenCalledTimes(afterBoth);
	});

	it("keeps looking after a compaction failed, and stops when the broker stops", async () => {
		const compact = jest.fn(async () => {
			throw new Error("disk full");
		});
		const broker = new ServiceBroker({ logger: false, middlewares: [idleMaintenance({ collect: jest.fn(), compact, intervalMs: 25 })] });
		await broker.start();
		await until(() => compact.mock.calls.length > 1);
		await broker.stop();
		const calls = compact.mock.calls.length;
		await idle(200);
		expect(compact).toHaveBeenCalledTimes(calls);
	});
});
