/**
 * `npm run bench`: the embedded shop (every service in one process, no transporter, SQLite
 * files in a temp DATA_DIR), as `npm start` runs it, beside its baselines of the same run:
 * bare node:http and a bare moleculer-web action, each in its own process, measured before
 * and after the shop. Load comes from this process. Settings: see the README's Performance section.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, until } from "../test/cluster/servers";
import { client } from "../test/helpers/http";
import { bestReading, moleculerWeb, nodeHttp, type Baseline } from "./lib/baselines";
import { directorySize } from "./lib/disk";
import { bytes, count, micros, ms, percent } from "./lib/format";
import type { Measured } from "./lib/load";
import { drainNote, drainShown, measureShop, readsDuringOrdersNote } from "./lib/measure-shop";
import { CACHE_DIR, npmStartEnvironment, peakRssBytes, rssBytes, startNode, waitForOk, type Child } from "./lib/processes";
import { baselineRows, compared, cpuNote, figure, spreadWarning } from "./lib/report";
import { finish, loadAverage, machine, progress, settings } from "./lib/run";
import { loginAdmin } from "./lib/shop";
import { lastOverFirst } from "./lib/stats";
import { TARGET_SUSTAINED_SECONDS, TARGETS, type Target } from "./lib/targets";

const ADMIN = { email: "admin@shop.bench", password: "bench-admin-password-1" };

/** The built shop, as `npm start` runs it, with its data in `dataDir`. */
function startShop(port: number, dataDir: string, logDir: string): Child {
	return startNode(
		"shop",
		["node_modules/moleculer/bin/moleculer-runner.js", "--config", "dist/moleculer.config.js"],
		{
			...npmStartEnvironment(),
			PORT: String(port),
			DATA_DIR: dataDir,
			JWT_SECRET: randomBytes(32).toString("hex"),
			ADMIN_EMAIL: ADMIN.email,
			ADMIN_PASSWORD: ADMIN.password,
		},
		logDir,
	);
}

/** Ready when the gateway says so and the admin can read what the benchmark uses. */
async function waitForShop(shop: Child, url: string): Promise<string> {
	await waitForOk(shop, `${url}/ready`, 120_000);
	const token = await loginAdmin(url, ADMIN.email, ADMIN.password);
	const api = client(url);
	await until(
		async () => (await Promise.all(["/api/products", "/api/orders", "/api/analytics/summary"].map(p => api.get(p, { token })))).every(r => r.status === 200),
		"the shop's routes",
		30_000,
	);
	return token;
}

async function main(): Promise<void> {
	const startedAt = new Date().toISOString();
	const loadAtStart = loadAverage();
	const logDir = path.join(CACHE_DIR, "logs", `embedded-${startedAt.replace(/[:.]/g, "-")}`);
	progress(`embedded benchmark; process logs in ${path.relative(process.cwd(), logDir)}`);

	const baselines: Baseline[] = [];
	const dataDir = mkdtempSync(path.join(os.tmpdir(), "shop-bench-data-"));
	let shop: Child | undefined;
	try {
		const [bareHttp, bareGateway] = [await nodeHttp(logDir), await moleculerWeb(logDir)];
		baselines.push(bareHttp, bareGateway);
		for (const baseline of baselines) await baseline.measure();

		const port = await freePort();
		const url = `http://127.0.0.1:${port}`;
		progress(`starting the shop (data in ${dataDir})`);
		shop = startShop(port, dataDir, logDir);
		const adminToken = await waitForShop(shop, url);
		const result = await measureShop(url, adminToken, [shop.child.pid!]);

		progress("the baselines again");
		for (const baseline of baselines) await baseline.measure();
		const shopRss = await rssBytes(shop.child.pid!);
		const shopPeakRss = peakRssBytes(shop.child.pid!);
		const baselineRss = (await Promise.all(baselines.map(b => b.rss()))).flat();
		// Stopped, the shop has closed its files: each write-ahead log is folded into its file.
		await shop.stop();
		const disk = directorySize(dataDir);
		const [largestFile, largestBytes] = Object.entries(disk.files).sort(([, a], [, b]) => b - a)[0] ?? ["-", 0];

		const { scenarios: s, sustained } = result;
		const t = TARGETS.embedded;
		const versus = (row: { name: string; measured: Measured }, target?: Target) =>
			compared(row.name, row.measured, bareGateway.name, bestReading(bareGateway), target);
		const slowdown = lastOverFirst(sustained.windows, settings.windowSeconds * 1000);
		const orders = s.order.measured;

		finish("embedded", {
			title: "Embedded: one process, SQLite files",
			startedAt,
			machine: { ...machine(), loadAverage: { start: loadAtStart, end: loadAverage() } },
			settings,
			scenarios: [
				...baselines.flatMap(b => baselineRows(b.name, b.readings)),
				versus(s.productGet, t.productGet),
				versus(s.productList, t.productList),
				versus(s.me, t.me),
				versus(s.order),
				versus(result.readsDuringOrders.read),
				versus(result.readsDuringOrders.order),
			],
			notes: [
				cpuNote("the shop's process or the baseline's"),
				`Ratios are to the faster reading of ${bareGateway.name}.`,
				readsDuringOrdersNote(),
				...[...baselines.map(b => spreadWarning(b.name, b.readings)), drainNote(result.drain)].filter(note => note !== undefined),
			],
			sustained,
			figures: [
				figure(`orders/s over ${settings.seconds} s`, orders.perSecond, `${count(orders.perSecond)} orders/s`, t.ordersPerSecond),
				figure("its p99", orders.p99, ms(orders.p99), t.ordersP99Ms),
				figure(`sustained orders/s (${settings.sustainedSeconds} s)`, sustained.perSecond, `${count(sustained.perSecond)} orders/s`, t.ordersPerSecond),
				figure("sustained p50", sustained.p50, ms(sustained.p50)),
				figure("sustained p99", sustained.p99, ms(sustained.p99), t.ordersP99Ms),
				figure("server CPU per paid order (sustained)", sustained.cpuPerAnswerUs, micros(sustained.cpuPerAnswerUs)),
				figure("last full 10 s window of the first", slowdown, percent(slowdown), t.lastWindowOfFirst, settings.sustainedSeconds >= TARGET_SUSTAINED_SECONDS),
				figure("paid orders in the run", result.paidOrders, count(result.paidOrders)),
				figure("data directory once the shop stopped", disk.total, bytes(disk.total)),
				figure(`its largest file (${largestFile})`, largestBytes, bytes(largestBytes)),
				figure("on disk per paid order (directory ÷ orders)", disk.total / result.paidOrders, bytes(disk.total / result.paidOrders), t.diskPerOrder),
				figure("analytics counted every paid order after", result.drain.seconds, drainShown(result.drain)),
				figure("RSS of the shop process after the runs", shopRss, bytes(shopRss), TARGETS.serviceRss),
				figure("its peak RSS (under load)", shopPeakRss, bytes(shopPeakRss)),
				...baselineRss.map(r => figure(`RSS of ${r.name}`, r.bytes, bytes(r.bytes))),
			],
		});
	} finally {
		await shop?.stop();
		await Promise.all(baselines.map(b => b.stop()));
		rmSync(dataDir, { recursive: true, force: true });
	}
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
