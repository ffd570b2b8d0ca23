import { lastOverFirst, percentile, windows, withCpu, type Sample } from "../../bench/lib/stats";

describe("benchmark statistics", () => {
	it("takes the nearest-rank percentile, whatever the order of the values", () => {
		const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
		expect(percentile(values, 50)).toBe(5);
		expect(percentile(values, 99)).toBe(10);
		expect(percentile(values, 10)).toBe(1);
		expect(percentile([42], 99)).toBe(42);
		expect(percentile([], 50)).toBeNaN();
	});

	it("counts the 2xx answers of each window and gives their latency", () => {
		const samples: Sample[] = [
			{ atMs: 100, latencyMs: 10, ok: true },
			{ atMs: 9_999, latencyMs: 30, ok: true },
			{ atMs: 5_000, latencyMs: 900, ok: false },
			{ atMs: 10_000, latencyMs: 50, ok: true },
		];
		const [first, second] = windows(samples, 20_000, 10_000);
		expect(first).toEqual({ fromS: 0, toS: 10, ok: 2, perSecond: 0.2, p50: 10, p99: 30 });
		expect(second).toMatchObject({ fromS: 10, toS: 20, ok: 1, perSecond: 0.1, p50: 50 });
	});

	it("makes the last window as long as what is left of the run, and counts late answers in it", () => {
		const samples: Sample[] = [
			{ atMs: 24_000, latencyMs: 5, ok: true },
			{ atMs: 25_300, latencyMs: 5, ok: true },
		];
		const result = windows(samples, 25_000, 10_000);
		expect(result.map(w => [w.fromS, w.toS])).toEqual([
			[0, 10],
			[10, 20],
			[20, 25],
		]);
		expect(result[2]).toMatchObject({ ok: 2, perSecond: 0.4 });
		expect(result[0]).toMatchObject({ ok: 0, perSecond: 0 });
		expect(result[0].p99).toBeNaN();
	});

	it("compares the last full window with the first, and cannot with fewer than two", () => {
		const run = (rates: number[], durationMs: number) =>
			windows(
				rates.flatMap((rate, w) => Array.from({ length: rate }, (_, i) => ({ atMs: w * 10_000 + i, latencyMs: 1, ok: true }))),
				durationMs,
				10_000,
			);
		expect(lastOverFirst(run([200, 150, 100], 30_000), 10_000)).toBe(0.5);
		// A short last window is left out: the last full one counts.
		expect(lastOverFirst(run([200, 150, 1], 25_000), 10_000)).toBe(0.75);
		expect(lastOverFirst(run([200], 10_000), 10_000)).toBeNaN();
	});
});

describe("the CPU of each window", () => {
	it("is the servers' CPU time within the window, read between the readings around its bounds, per 2xx answer", () => {
		const run = windows(
			Array.from({ length: 300 }, (_, i) => ({ atMs: i * 100, latencyMs: 5, ok: true })),
			30_000,
			10_000,
		);
		// 1 ms of CPU a millisecond for 10 s, then 2 ms, then 1 ms again; read every 2.5 s, the last one after the end.
		const cpuBy = (ms: number) => (ms <= 10_000 ? ms : ms <= 20_000 ? 10_000 + 2 * (ms - 10_000) : 30_000 + (ms - 20_000)) * 1000;
		const readings = [...Array.from({ length: 12 }, (_, i) => i * 2_500), 31_000].map(atMs => ({ atMs, cpuMicros: cpuBy(atMs) }));
		const [first, second, third] = withCpu(run, readings);
		expect(first.cpuPerAnswerUs).toBe(100_000);
		expect(second.cpuPerAnswerUs).toBe(200_000);
		// Its end lies between two readings (27.5 s and 31 s): the CPU there is read off the line between them.
		expect(third.cpuPerAnswerUs).toBeCloseTo(100_000, 0);
	});

	it("is not measured for a window the readings do not cover", () => {
		const run = windows([{ atMs: 1_000, latencyMs: 5, ok: true }], 10_000, 10_000);
		expect(withCpu(run, [{ atMs: 0, cpuMicros: 0 }])[0].cpuPerAnswerUs).toBeNaN();
	});
});
