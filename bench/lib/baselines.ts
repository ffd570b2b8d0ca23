/**
 * The baselines, each in processes of its own, measured on GET /api/hello: bare node:http,
 * a bare moleculer-web gateway with its one trivial action, and that gateway calling the
 * action in a worker process over NATS. Each is measured before the shop and again after
 * it (idle in between), so that a busy machine shows as two readings that disagree.
 */
import path from "node:path";
import { buildSync } from "esbuild";
import { freePort } from "../../test/cluster/servers";
import type { Measured, Scenario } from "./load";
import { CACHE_DIR, ROOT, rssBytes, startNode, waitForOk, type Child } from "./processes";
import { warmAndMeasure } from "./run";

const hello: Omit<Scenario, "name"> = { method: "GET", path: "/api/hello" };

const BUILT = path.join(CACHE_DIR, "baselines");
let built = false;

/**
 * Starts a baseline of bench/baselines/ compiled to plain JavaScript, as the shop runs from
 * dist/: no TypeScript loader in the process to add to its memory or its start.
 */
function startBaseline(name: string, file: string, env: Record<string, string>, logDir: string): Child {
	if (!built) {
		const entryPoints = ["hello", "node-http", "gateway", "worker"].map(f => path.join(ROOT, "bench", "baselines", `${f}.ts`));
		buildSync({ entryPoints, outdir: BUILT, format: "cjs", platform: "node", target: "node22", logLevel: "warning" });
		built = true;
	}
	return startNode(name, [path.join(BUILT, `${file}.js`)], env, logDir);
}

/** A baseline whose processes are up: measured once before the shop and once after it. */
export type Baseline = {
	name: string;
	readings: Measured[];
	measure(): Promise<Measured>;
	rss(): Promise<{ name: string; bytes: number }[]>;
	stop(): Promise<void>;
};

async function startBaselineServer(name: string, start: (port: number) => Child[]): Promise<Baseline> {
	const port = await freePort();
	const processes = start(port);
	const url = `http://127.0.0.1:${port}`;
	const stop = () => Promise.all(processes.map(p => p.stop())).then(() => undefined);
	try {
		await waitForOk(processes[processes.length - 1], url + hello.path);
	} catch (err) {
		await stop();
		throw err;
	}
	const readings: Measured[] = [];
	return {
		name,
		readings,
		async measure() {
			const measured = await warmAndMeasure(
				url,
				{ name, ...hello },
				processes.map(p => p.child.pid!),
			);
			readings.push(measured);
			return measured;
		},
		rss: () => Promise.all(processes.map(async p => ({ name: p.name, bytes: await rssBytes(p.child.pid!) }))),
		stop,
	};
}

/** The faster reading of a baseline: a ratio to it never flatters the shop because the machine was busy at one of them. */
export function bestReading(baseline: Baseline): Measured {
	return baseline.readings.reduce((best, r) => (r.perSecond > best.perSecond ? r : best));
}

export function nodeHttp(logDir: string): Promise<Baseline> {
	return startBaselineServer("node:http", port => [startBaseline("baseline-node-http", "node-http", { PORT: String(port) }, logDir)]);
}

export function moleculerWeb(logDir: string): Promise<Baseline> {
	const env = (port: number) => ({ PORT: String(port), NAMESPACE: `bench-${process.pid}` });
	return startBaselineServer("moleculer-web", port => [startBaseline("baseline-moleculer-web", "gateway", env(port), logDir)]);
}

/** The gateway and the worker meet on `natsUrl`, in a namespace of their own. */
export function remoteMoleculerWeb(logDir: string, natsUrl: string): Promise<Baseline> {
	const env = { TRANSPORTER: natsUrl, NAMESPACE: `bench-remote-${process.pid}` };
	return startBaselineServer("moleculer-web → NATS → worker", port => [
		startBaseline("baseline-worker", "worker", env, logDir),
		startBaseline("baseline-remote-gateway", "gateway", { ...env, PORT: String(port) }, logDir),
	]);
}
