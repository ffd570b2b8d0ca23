/**
 * What a run found, as JSON (kept under .cache/bench/ for comparison) and as the tables
 * printed at the end. Building and rendering are plain functions, unit tested.
 */
import { bytes, count, micros, ms, percent, table } from "./format";
import type { Measured, Sustained } from "./load";
import { check, type Target, type Verdict } from "./targets";

/** One scenario; `ofBaseline` is its rate as a fraction of the named baseline's. */
export type ScenarioResult = Measured & { name: string; baseline?: string; ofBaseline?: number; target?: string; verdict?: Verdict };

/** One figure of the run beside its target, if the issue sets one. */
export type Figure = { name: string; value: number; shown: string; target?: string; verdict?: Verdict };

export type BenchReport = {
	title: string;
	startedAt: string;
	machine: { cpus: number; cpuModel: string; memoryBytes: number; node: string; platform: string; loadAverage: { start: number; end: number } };
	settings: { connections: number; seconds: number; warmupSeconds: number; sustainedSeconds: number; windowSeconds: number };
	scenarios: ScenarioResult[];
	/** Printed under the scenarios: how the ratios were taken, and any doubt about the run. */
	notes: string[];
	sustained: Sustained & { name: string };
	figures: Figure[];
};

/** Readings of one baseline further apart than this (of the faster) mean the machine was busy. */
export const BASELINE_SPREAD_LIMIT = 0.15;

/** The note that says what the CPU/answer column counts: `servers`, the processes under test. */
export function cpuNote(servers: string): string {
	return (
		`CPU/answer: the CPU time the servers under test used (${servers}) per 2xx answer in the measured seconds. ` +
		"Unlike req/s, it hardly depends on how the load generator shared the cores with them."
	);
}

/** A baseline's readings, before and after the shop, as rows of the scenarios table. */
export function baselineRows(name: string, readings: readonly Measured[]): ScenarioResult[] {
	const when = ["before the shop", "after the shop"];
	return readings.map((reading, i) => ({ name: `${name}, ${when[i] ?? `reading ${i + 1}`}`, ...reading }));
}

/** A warning when a baseline's readings disagree by more than BASELINE_SPREAD_LIMIT. */
export function spreadWarning(name: string, readings: readonly Measured[]): string | undefined {
	const rates = readings.map(r => r.perSecond);
	const spread = 1 - Math.min(...rates) / Math.max(...rates);
	if (!(spread > BASELINE_SPREAD_LIMIT)) return undefined;
	return `The readings of ${name} differ by ${percent(spread)}: other work was using the CPU during one of them, so every figure of this run is less certain.`;
}

/** A scenario beside its baseline and, if set, the target for that ratio. */
export function compared(name: string, measured: Measured, baselineName: string, baseline: Measured, target?: Target): ScenarioResult {
	const ofBaseline = measured.perSecond / baseline.perSecond;
	return { name, ...measured, baseline: baselineName, ofBaseline, ...(target ? { target: target.label, verdict: check(target, ofBaseline) } : {}) };
}

/**
 * A figure; with a target, checked against it. `comparable` is false when the run was not
 * the one the target speaks of (a sustained run shorter than 60 s): then it is not measured.
 */
export function figure(name: string, value: number, shown: string, target?: Target, comparable = true): Figure {
	if (!target) return { name, value, shown };
	return { name, value, shown, target: target.label, verdict: comparable ? check(target, value) : "not measured" };
}

/** Errors with what they were: "5 (3×503, 2 without an answer)". */
function errorsOf(m: Measured): string {
	if (!m.errors) return "0";
	const statuses = Object.entries(m.statuses).filter(([code]) => !code.startsWith("2"));
	const unanswered = m.errors - statuses.reduce((sum, [, n]) => sum + n, 0);
	const parts = [...statuses.map(([code, n]) => `${n}×${code}`), ...(unanswered > 0 ? [`${unanswered} without an answer`] : [])];
	return `${count(m.errors)} (${parts.join(", ")})`;
}

export function render(report: BenchReport): string {
	const { machine, settings } = report;
	const scenarios = table(
		["scenario", "req/s", "p50", "p99", "CPU/answer", "errors", "of baseline", "target", "status"],
		report.scenarios.map(s => [
			s.baseline ? s.name : `baseline: ${s.name}`,
			count(s.perSecond),
			ms(s.p50),
			ms(s.p99),
			micros(s.cpuPerAnswerUs ?? Number.NaN),
			errorsOf(s),
			s.ofBaseline === undefined ? "" : `${percent(s.ofBaseline)} of ${s.baseline}`,
			s.target ?? "",
			s.verdict ?? "",
		]),
		["req/s", "p50", "p99", "CPU/answer"],
	);
	const sustained = table(
		["window", "orders/s", "p50", "p99", "CPU/order"],
		[
			...report.sustained.windows.map(w => [`${w.fromS}-${w.toS} s`, count(w.perSecond), ms(w.p50), ms(w.p99), micros(w.cpuPerAnswerUs ?? Number.NaN)]),
			[
				`whole run`,
				count(report.sustained.perSecond),
				ms(report.sustained.p50),
				ms(report.sustained.p99),
				micros(report.sustained.cpuPerAnswerUs ?? Number.NaN),
			],
		],
		["orders/s", "p50", "p99", "CPU/order"],
	);
	const figures = table(
		["figure", "value", "target", "status"],
		report.figures.map(f => [f.name, f.shown, f.target ?? "", f.verdict ?? ""]),
	);
	const verdicts = [...report.scenarios, ...report.figures].map(x => x.verdict).filter(v => v !== undefined);
	const tally = (verdict: Verdict) => verdicts.filter(v => v === verdict).length;
	return [
		`## ${report.title}`,
		"",
		`${report.startedAt}; ${machine.cpus} × ${machine.cpuModel}, ${bytes(machine.memoryBytes)}, ${machine.platform}, Node ${machine.node}; ` +
			`load average ${machine.loadAverage.start.toFixed(1)} at the start, ${machine.loadAverage.end.toFixed(1)} at the end. ` +
			`${settings.connections} connections, ${settings.seconds} s per scenario after ${settings.warmupSeconds} s of warm-up.`,
		"",
		scenarios,
		"",
		...report.notes.flatMap(note => [note, ""]),
		`Sustained ${report.sustained.name}, ${settings.sustainedSeconds} s, ${settings.connections} connections` +
			(report.sustained.errors ? `, ${errorsOf(report.sustained)} errors` : ""),
		"",
		sustained,
		"",
		figures,
		"",
		`Targets: ${tally("met")} met, ${tally("not met")} not met, ${tally("not measured")} not measured by this run.`,
	].join("\n");
}
