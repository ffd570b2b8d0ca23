import { ServiceBroker } from "moleculer";
import { IdleWatch, idleMemoryRelease } from "../../src/memory/idle-release";

const MB = 1024 * 1024;
const options = { quietUtilization: 0.05, quietLooks: 2, minGrowthBytes: 32 * MB };
const busy = (heapMb: number) => ({ eventLoopUtilization: 0.8, heapBytes: heapMb * MB });
const quiet = (heapMb: number) => ({ eventLoopUtilization: 0.01, heapBytes: heapMb * MB });

describe("when the idle watch collects", () => {
	it("never while the event loop is busy, however much the heap grew", () => {
		const watch = new IdleWatch(options);
		expect([40, 120, 200, 260].map(heap => watch.look(busy(heap)))).toEqual([false, false, false, false]);
	});

	it("once the loop was quiet for two looks in a row after the heap grew, and not again while it stays quiet", () => {
		const watch = new IdleWatch(options);
		expect(watch.look(quiet(40))).toBe(false);
		expect(watch.look(busy(180))).toBe(false);
		expect(watch.look(quiet(180))).toBe(false);
		expect(watch.look(quiet(180))).toBe(true);
		watch.collected(45 * MB);
		expect([quiet(45), quiet(45), quiet(46), quiet(50)].map(sample => watch.look(sample))).toEqual([false, false, false, false]);
	});

	it("not when a busy look comes between two quiet ones", () => {
		const watch = new IdleWatch(options);
		watch.look(busy(40));
		expect([quiet(200), busy(200), quiet(200)].map(sample => watch.look(sample))).toEqual([false, false, false]);
		expect(watch.look(quiet(200))).toBe(true);
	});

	it("not when the heap grew by less than the threshold since the last collection", () => {
		const watch = new IdleWatch(options);
		watch.look(quiet(100));
		watch.collected(100 * MB);
		expect([busy(120), quiet(120), quiet(120), quiet(131)].map(sample => watch.look(sample))).toEqual([false, false, false, false]);
		expect(watch.look(quiet(133))).toBe(true);
	});

	it("again after the next burst, from the size the last collection left", () => {
		const watch = new IdleWatch(options);
		watch.look(quiet(40));
		watch.look(busy(200));
		watch.look(quiet(200));
		expect(watch.look(quiet(200))).toBe(true);
		watch.collected(150 * MB);
		expect([busy(175), quiet(175), quiet(175)].map(sample => watch.look(sample))).toEqual([false, false, false]);
		expect([busy(190), quiet(190), quiet(190)].map(sample => watch.look(sample))).toEqual([false, false, true]);
	});
});

describe("the idle memory release on a broker", () => {
	const idle = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

	it("collects once after the heap grew and the process went quiet, and not again while what it holds is live", async () => {
		const collect = jest.fn();
		const broker = new ServiceBroker({ logger: false, middlewares: [idleMemoryRelease(collect, 25)] });
		await broker.start();
		try {
			await idle(100);
			expect(collect).not.toHaveBeenCalled();
			// 48 MB that stay live: the heap grows by more than the threshold and no collection can shrink it.
			const live = Array.from({ length: 48 }, () => new Array<number>(MB / 8).fill(1.5));
			await idle(300);
			expect(collect).toHaveBeenCalledTimes(1);
			await idle(300);
			expect(collect).toHaveBeenCalledTimes(1);
			expect(live).toHaveLength(48);
		} finally {
			await broker.stop();
		}
	});

	it("stops looking when the broker stops", async () => {
		const collect = jest.fn();
		const broker = new ServiceBroker({ logger: false, middlewares: [idleMemoryRelease(collect, 25)] });
		await broker.start();
		await broker.stop();
		const live = Array.from({ length: 48 }, () => new Array<number>(MB / 8).fill(1.5));
		await idle(300);
		expect(collect).not.toHaveBeenCalled();
		expect(live).toHaveLength(48);
	});
});
