/**
 * The processes under test: each baseline and each shop process runs in a child process of
 * the benchmark, which only generates load and reads results. Their output goes to a log
 * file each under .cache/bench/logs/; they exit with the benchmark if it is killed.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { stopProcess, until } from "../../test/cluster/servers";

export const ROOT = path.resolve(__dirname, "../..");
export const CACHE_DIR = path.join(ROOT, ".cache", "bench");
const WATCHDOG = path.join(ROOT, "test", "cluster", "exit-with-parent.cjs");

export type Child = { name: string; child: ChildProcess; logFile: string; stop(): Promise<void> };

/** Starts `node <args>` (Node of this run) with `env` added to a minimal environment. */
export function startNode(name: string, args: string[], env: Record<string, string>, logDir: string): Child {
	mkdirSync(logDir, { recursive: true });
	const logFile = path.join(logDir, `${name}.log`);
	const log = createWriteStream(logFile, { flags: "a" });
	const child = spawn(process.execPath, args, {
		cwd: ROOT,
		env: {
			PATH: process.env.PATH ?? "",
			HOME: process.env.HOME ?? "",
			...env,
			NODE_OPTIONS: `--require ${WATCHDOG} ${env.NODE_OPTIONS ?? ""}`.trim(),
		},
		stdio: ["ignore", "pipe", "pipe"],
	});
	child.stdout!.pipe(log);
	child.stderr!.pipe(log);
	return { name, child, logFile, stop: () => stopProcess(child) };
}

/** Waits until `url` answers 200, or fails (naming the log to read) if the process exits or `timeoutMs` passes. */
export async function waitForOk(server: Child, url: string, timeoutMs = 60_000): Promise<void> {
	await until(
		async () => {
			if (server.child.exitCode !== null) throw new Error(`${server.name} exited with ${server.child.exitCode}; see ${server.logFile}`);
			const res = await fetch(url).catch(() => null);
			await res?.arrayBuffer();
			return res?.status === 200;
		},
		`${server.name} (${url})`,
		timeoutMs,
	);
}

/** Resident set size of a running process, in bytes (from `ps`, which Linux and macOS both have). */
export async function rssBytes(pid: number): Promise<number> {
	const { stdout } = await promisify(execFile)("ps", ["-o", "rss=", "-p", String(pid)]);
	return Number(stdout.trim()) * 1024;
}

/** The most a running process has held resident (Linux's VmHWM), in bytes; NaN where there is no /proc. */
export function peakRssBytes(pid: number): number {
	try {
		const kilobytes = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
		return kilobytes ? Number(kilobytes) * 1024 : Number.NaN;
	} catch {
		return Number.NaN;
	}
}

/**
 * The environment `npm start` gives the shop: the `NAME=value` words of package.json's start
 * script before `moleculer-runner`, a value's quotes taken off and a `$NAME` in it replaced by
 * what this process has (or nothing).
 */
export function npmStartEnvironment(script: string = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts.start): Record<string, string> {
	const runner = script.indexOf("moleculer-runner");
	const command = (runner < 0 ? script : script.slice(0, runner)).split("&&").pop() ?? "";
	const env: Record<string, string> = {};
	for (const [, name, quoted, bare] of command.matchAll(/(\w+)=(?:"([^"]*)"|(\S+))/g)) {
		env[name] = (quoted ?? bare).replace(/\$(\w+)/g, (_, other: string) => process.env[other] ?? "").trim();
	}
	return env;
}

/**
 * CPU time (user and system) a process has used, in microseconds, from the utime and stime
 * fields of a Linux `/proc/<pid>/stat` line, given the kernel's clock ticks per second.
 */
export function cpuMicrosOfStat(stat: string, ticksPerSecond: number): number {
	// The command name (field 2) is in parentheses and may hold spaces: count from after it.
	const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
	return ((Number(fields[11]) + Number(fields[12])) / ticksPerSecond) * 1e6;
}

let ticksPerSecond: number | undefined;

/** CPU time a running process has used, in microseconds; NaN where there is no /proc (not Linux). */
export function cpuMicros(pid: number): number {
	try {
		ticksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
		return cpuMicrosOfStat(readFileSync(`/proc/${pid}/stat`, "utf8"), ticksPerSecond);
	} catch {
		return Number.NaN;
	}
}

/** CPU time the running processes have used in all, in microseconds (NaN where it cannot be read). */
export const cpuMicrosOfAll = (pids: readonly number[]): number => pids.reduce((sum, pid) => sum + cpuMicros(pid), 0);

/** CPU time the processes use while `work` runs, in microseconds (NaN where it cannot be read). */
export async function cpuDuring<T>(pids: readonly number[], work: () => Promise<T>): Promise<{ result: T; cpuMicros: number }> {
	const before = cpuMicrosOfAll(pids);
	const result = await work();
	return { result, cpuMicros: cpuMicrosOfAll(pids) - before };
}
