/**
 * HTTP load with autocannon, from the benchmark's own process (the servers under test each
 * run in theirs). A rate counts 2xx answers only, so a server that fails fast does not
 * look fast; everything else is reported as errors.
 */
import autocannon from "autocannon";
import { percentile, windows, withCpu, type CpuReading, type Sample, type Window } from "./stats";

/** `tokens`: bearer tokens of as many callers; each connection is one of them (taken in turn), as shoppers are. */
export type Scenario = { name: string; method: "GET" | "POST"; path: string; tokens?: readonly string[]; body?: unknown };

export type Load = { connections: number; seconds: number };

export type Measured = {
	perSecond: number;
	p50: number;
	p99: number;
	ok: number;
	errors: number;
	statuses: Record<string, number>;
	/** CPU time the servers under test used per 2xx answer, in microseconds (when measured). */
	cpuPerAnswerUs?: number;
};

export type Sustained = Measured & { seconds: number; windows: Window[] };

function options(baseUrl: string, scenario: Scenario, load: Load): autocannon.Options {
	const { tokens } = scenario;
	let connection = 0;
	return {
		url: baseUrl + scenario.path,
		method: scenario.method,
		connections: load.connections,
		duration: load.seconds,
		headers: scenario.body ? { "content-type": "application/json" } : {},
		body: scenario.body ? JSON.stringify(scenario.body) : undefined,
		// autocannon keeps a context per connection: the first request of each picks its caller.
		requests: tokens?.length
			? [
					{
						setupRequest: (request, context: { token?: string }) => {
							context.token ??= tokens[connection++ % tokens.length];
							return { ...request, headers: { ...request.headers, authorization: `Bearer ${context.token}` } };
						},
					},
				]
			: undefined,
	};
}

function summary(result: autocannon.Result): Omit<Measured, "perSecond" | "p50" | "p99"> {
	const statuses = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, stat?.count ?? 0]));
	return { ok: result["2xx"], errors: result.non2xx + result.errors + result.timeouts, statuses };
}

/** Runs one scenario for `load.seconds`: 2xx answers per second and their p50/p99 latency. */
export async function measure(baseUrl: string, scenario: Scenario, load: Load): Promise<Measured> {
	const result = await autocannon(options(baseUrl, scenario, load));
	// autocannon's latencies are of 2xx answers; without any, its 0 ms would read as fast.
	const answered = result["2xx"] > 0;
	return {
		...summary(result),
		perSecond: result["2xx"] / result.duration,
		p50: answered ? result.latency.p50 : Number.NaN,
		p99: answered ? result.latency.p99 : Number.NaN,
	};
}

/**
 * Runs one scenario for `load.seconds` and keeps every answer, to report it per window of
 * `windowSeconds`; `onWindow` hears each window as it ends (progress lines). `cpuMicros`
 * reads the CPU time the servers have used: read each second, it gives each window its CPU per answer.
 */
export function sustain(
	baseUrl: string,
	scenario: Scenario,
	load: Load,
	windowSeconds: number,
	onWindow: (w: Window) => void,
	cpuMicros?: () => number,
): Promise<Sustained> {
	const samples: Sample[] = [];
	const readings: CpuReading[] = [];
	const windowMs = windowSeconds * 1000;
	let started = Date.now();
	let reported = 0;
	const readCpu = (atMs: number) => {
		if (cpuMicros) readings.push({ atMs, cpuMicros: cpuMicros() });
	};
	const measured = (ended: readonly Sample[], durationMs: number) => {
		const all = windows(ended, durationMs, windowMs);
		return cpuMicros ? withCpu(all, readings) : all;
	};
	return new Promise((resolve, reject) => {
		const instance = autocannon(options(baseUrl, scenario, load), (err, result) => {
			if (err) return reject(err);
			readCpu(Math.max(Date.now() - started, load.seconds * 1000));
			const all = measured(samples, load.seconds * 1000);
			all.slice(reported).forEach(onWindow);
			const latencies = samples.filter(s => s.ok).map(s => s.latencyMs);
			resolve({
				...summary(result),
				seconds: result.duration,
				perSecond: result["2xx"] / result.duration,
				p50: percentile(latencies, 50),
				p99: percentile(latencies, 99),
				windows: all,
			});
		});
		instance.on("start", () => {
			started = Date.now();
			readCpu(0);
		});
		instance.on("response", (_client, statusCode, _bytes, responseTime) => {
			samples.push({ atMs: Date.now() - started, latencyMs: responseTime, ok: statusCode >= 200 && statusCode < 300 });
		});
		instance.on("tick", () => {
			const elapsedMs = Date.now() - started;
			readCpu(elapsedMs);
			const done = Math.floor(elapsedMs / windowMs);
			if (done > reported && elapsedMs < load.seconds * 1000) {
				const ended = samples.filter(s => s.atMs < done * windowMs);
				measured(ended, done * windowMs)
					.slice(reported)
					.forEach(onWindow);
				reported = done;
			}
		});
	});
}
