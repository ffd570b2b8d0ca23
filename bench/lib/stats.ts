/** Statistics over what the load generator saw. Plain functions: no I/O, unit tested. */

/** The nearest-rank percentile `p` (0-100] of `values`; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
	if (values.length === 0) return Number.NaN;
	const sorted = [...values].sort((a, b) => a - b);
	const rank = Math.ceil((p / 100) * sorted.length);
	return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** One response: when it arrived (ms since the run started), how long it took, whether it was a 2xx. */
export type Sample = { atMs: number; latencyMs: number; ok: boolean };

/** A slice of a run: its bounds in seconds, 2xx answers per second, and their latency; the servers' CPU time per 2xx answer when it was read. */
export type Window = { fromS: number; toS: number; ok: number; perSecond: number; p50: number; p99: number; cpuPerAnswerUs?: number };

/** The servers' CPU time used so far (microseconds), read at `atMs` into the run. */
export type CpuReading = { atMs: number; cpuMicros: number };

/**
 * Splits a run of `durationMs` into windows of `windowMs` (the last one shorter when the
 * duration is not a multiple) and counts each window's 2xx answers. An answer that
 * arrives after the end (the load generator stops sending at the end, not receiving)
 * counts in the last window.
 */
export function windows(samples: readonly Sample[], durationMs: number, windowMs: number): Window[] {
	const count = Math.max(1, Math.ceil(durationMs / windowMs));
	const latencies: number[][] = Array.from({ length: count }, () => []);
	for (const sample of samples) {
		if (!sample.ok) continue;
		const index = Math.min(count - 1, Math.max(0, Math.floor(sample.atMs / windowMs)));
		latencies[index].push(sample.latencyMs);
	}
	return latencies.map((inWindow, i) => {
		const fromMs = i * windowMs;
		const toMs = Math.min(durationMs, fromMs + windowMs);
		return {
			fromS: fromMs / 1000,
			toS: toMs / 1000,
			ok: inWindow.length,
			perSecond: inWindow.length / ((toMs - fromMs) / 1000),
			p50: percentile(inWindow, 50),
			p99: percentile(inWindow, 99),
		};
	});
}

/** The last full window's rate as a fraction of the first's: how much the run slowed down. */
export function lastOverFirst(runWindows: readonly Window[], windowMs: number): number {
	const full = runWindows.filter(w => (w.toS - w.fromS) * 1000 === windowMs);
	if (full.length < 2 || full[0].perSecond === 0) return Number.NaN;
	return full[full.length - 1].perSecond / full[0].perSecond;
}

/** The CPU used by `atMs`, between the two readings around it (readings in time order); NaN outside them. */
function cpuAt(readings: readonly CpuReading[], atMs: number): number {
	for (let i = 1; i < readings.length; i++) {
		const [before, after] = [readings[i - 1], readings[i]];
		if (atMs < before.atMs || atMs > after.atMs) continue;
		const share = after.atMs === before.atMs ? 1 : (atMs - before.atMs) / (after.atMs - before.atMs);
		return before.cpuMicros + share * (after.cpuMicros - before.cpuMicros);
	}
	return Number.NaN;
}

/**
 * Each window with the CPU time the servers used per 2xx answer within it, from readings of
 * their CPU time taken during the run (each second). Other work on the host raises it too:
 * a window slowed by the servers' own doing shows only in a run whose baselines held.
 */
export function withCpu(runWindows: readonly Window[], readings: readonly CpuReading[]): Window[] {
	return runWindows.map(w => ({ ...w, cpuPerAnswerUs: (cpuAt(readings, w.toS * 1000) - cpuAt(readings, w.fromS * 1000)) / w.ok }));
}
