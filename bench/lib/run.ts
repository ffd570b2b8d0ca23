/** What both benchmarks share: their settings, progress lines, warm-up, and where results go. */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { micros, ms } from "./format";
import { measure, type Measured, type Scenario } from "./load";
import { CACHE_DIR, cpuDuring } from "./processes";
import { render, type BenchReport } from "./report";

function seconds(name: string, fallback: number): number {
	const value = Number(process.env[name] ?? fallback);
	if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number of seconds`);
	return value;
}

/** Settings, from the environment (see the README's Performance section). */
export const settings = {
	connections: seconds("BENCH_CONNECTIONS", 32),
	seconds: seconds("BENCH_SECONDS", 10),
	warmupSeconds: seconds("BENCH_WARMUP_SECONDS", 2),
	sustainedSeconds: seconds("BENCH_SUSTAINED_SECONDS", 60),
	windowSeconds: 10,
	drainTimeoutSeconds: seconds("BENCH_DRAIN_TIMEOUT_SECONDS", 120),
};

const started = Date.now();

/** A progress line on stderr, with the time since the start. */
export function progress(message: string): void {
	process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);
}

/**
 * Warms the server up on `scenario`, then measures it, with the CPU time the processes
 * `serverPids` (the servers under test) use per answer; `onOk` hears every 2xx count (warm-up included).
 */
export async function warmAndMeasure(
	baseUrl: string,
	scenario: Scenario,
	serverPids: readonly number[],
	onOk: (ok: number) => void = () => undefined,
): Promise<Measured> {
	progress(`${scenario.name}: ${settings.warmupSeconds} s warm-up, ${settings.seconds} s measured`);
	const warmup = await measure(baseUrl, scenario, { connections: settings.connections, seconds: settings.warmupSeconds });
	onOk(warmup.ok);
	const { result: measured, cpuMicros } = await cpuDuring(serverPids, () =>
		measure(baseUrl, scenario, { connections: settings.connections, seconds: settings.seconds }),
	);
	onOk(measured.ok);
	const cpuPerAnswerUs = cpuMicros / measured.ok;
	progress(
		`  ${Math.round(measured.perSecond)} req/s, p50 ${ms(measured.p50)}, p99 ${ms(measured.p99)}, ${measured.errors} errors, ${micros(cpuPerAnswerUs)} of server CPU an answer`,
	);
	return { ...measured, cpuPerAnswerUs };
}

export function machine(): Omit<BenchReport["machine"], "loadAverage"> {
	const cpus = os.cpus();
	return {
		cpus: cpus.length,
		cpuModel: cpus[0]?.model.trim() ?? "unknown",
		memoryBytes: os.totalmem(),
		node: process.versions.node,
		platform: `${os.type()} ${os.release()}`,
	};
}

export const loadAverage = () => os.loadavg()[0];

/** Prints the tables and keeps the JSON in .cache/bench/<mode>-<time>.json. */
export function finish(mode: string, report: BenchReport): void {
	mkdirSync(CACHE_DIR, { recursive: true });
	const file = path.join(CACHE_DIR, `${mode}-${report.startedAt.replace(/[:.]/g, "-")}.json`);
	writeFileSync(file, JSON.stringify(report, null, "\t"));
	console.log(`\n${render(report)}\n`);
	progress(`results kept in ${path.relative(process.cwd(), file)}`);
}
