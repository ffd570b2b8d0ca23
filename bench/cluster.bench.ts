/**
 * `npm run bench:cluster`: the shop as docker-compose runs it, one process per compose
 * service (started by the cluster tier's harness, test/cluster/compose-cluster.ts, with
 * the compose environment) over NATS, Redis and FerretDB or MONGO_URI (test/cluster/servers.ts),
 * beside its baseline of the same run, measured before and after the shop: a bare
 * moleculer-web gateway calling a trivial action in a worker process over the same NATS.
 * Load comes from this process.
 */
import path from "node:path";
import { startCluster, type RunningCluster } from "../test/cluster/running-cluster";
import { startServers } from "../test/cluster/servers";
import { bestReading, remoteMoleculerWeb } from "./lib/baselines";
import { bytes, count, micros, ms } from "./lib/format";
import type { Measured } from "./lib/load";
import { drainNote, drainShown, measureShop, readsDuringOrdersNote } from "./lib/measure-shop";
import { CACHE_DIR, rssBytes } from "./lib/processes";
import { baselineRows, compared, cpuNote, figure, spreadWarning } from "./lib/report";
import { finish, loadAverage, machine, progress, settings } from "./lib/run";
import { TARGET_SUSTAINED_SECONDS, TARGETS, type Target } from "./lib/targets";

async function main(): Promise<void> {
	const startedAt = new Date().toISOString();
	const loadAtStart = loadAverage();
	const logDir = path.join(CACHE_DIR, "logs", `cluster-${startedAt.replace(/[:.]/g, "-")}`);
	progress(`cluster benchmark; baseline logs in ${path.relative(process.cwd(), logDir)}`);

	const servers = await startServers();
	let running: RunningCluster | undefined;
	const baseline = await remoteMoleculerWeb(logDir, servers.natsUrl).catch(async err => {
		await servers.stop();
		throw err;
	});
	try {
		await baseline.measure();

		progress("starting one process per compose service");
		running = await startCluster({}, servers);
		const { cluster, adminToken } = running;
		progress(`service logs in ${path.relative(process.cwd(), cluster.logs())}`);
		const result = await measureShop(
			cluster.apiUrls()[0],
			adminToken,
			cluster.instances.map(i => i.child.pid!),
		);

		progress("the baseline again");
		await baseline.measure();
		const rss = await Promise.all(cluster.instances.map(async i => ({ name: i.nodeID, bytes: await rssBytes(i.child.pid!) })));
		const baselineRss = await baseline.rss();

		const { scenarios: s, sustained, drain } = result;
		const t = TARGETS.cluster;
		const versus = (row: { name: string; measured: Measured }, target?: Target) =>
			compared(row.name, row.measured, baseline.name, bestReading(baseline), target);
		const orders = s.order.measured;

		finish("cluster", {
			title: "Cluster: one process per compose service, over NATS, Redis and FerretDB",
			startedAt,
			machine: { ...machine(), loadAverage: { start: loadAtStart, end: loadAverage() } },
			settings,
			scenarios: [
				...baselineRows(baseline.name, baseline.readings),
				versus(s.productGet, t.productGet),
				versus(s.productList, t.productList),
				versus(s.me, t.me),
				versus(s.order),
				versus(result.readsDuringOrders.read),
				versus(result.readsDuringOrders.order),
			],
			notes: [
				cpuNote("the shop's service processes, or the baseline's gateway and worker; not NATS, Redis or the database"),
				`Ratios are to the faster reading of ${baseline.name}.`,
				readsDuringOrdersNote(),
				`The three reads are cached actions: the shop's gateway answers a repeated one from its own memory (CACHE_NEAR_TTL_SECONDS), where the baseline's gateway calls its worker every time. Their ratios say that a hot read does not leave the gateway; a read that misses also crosses NATS.`,
				...[spreadWarning(baseline.name, baseline.readings), drainNote(drain)].filter(note => note !== undefined),
			],
			sustained,
			figures: [
				figure(`orders/s over ${settings.seconds} s`, orders.perSecond, `${count(orders.perSecond)} orders/s`),
				figure(`sustained orders/s (${settings.sustainedSeconds} s)`, sustained.perSecond, `${count(sustained.perSecond)} orders/s`),
				figure("sustained p50", sustained.p50, ms(sustained.p50)),
				figure("sustained p99", sustained.p99, ms(sustained.p99)),
				figure("server CPU per paid order (sustained)", sustained.cpuPerAnswerUs, micros(sustained.cpuPerAnswerUs)),
				figure("paid orders in the run", result.paidOrders, count(result.paidOrders)),
				figure(
					"analytics counted every paid order after",
					drain.seconds,
					drainShown(drain),
					t.analyticsDrainSeconds,
					settings.sustainedSeconds >= TARGET_SUSTAINED_SECONDS,
				),
				...rss.map(r => figure(`RSS of ${r.name}`, r.bytes, bytes(r.bytes), TARGETS.serviceRss)),
				...baselineRss.map(r => figure(`RSS of ${r.name}`, r.bytes, bytes(r.bytes))),
			],
		});
	} finally {
		await running?.cluster.stopAll();
		await baseline.stop();
		await servers.stop();
	}
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
