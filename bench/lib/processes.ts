/**
 * The processes under test: each baseline and each shop process runs in a child process of
 * the benchmark, which only generates load and reads results. Their output goes to a log
 * file each under .cache/bench/logs/; they exit with the benchmark if it is killed.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
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
