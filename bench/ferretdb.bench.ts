/**
 * `npm run bench:ferretdb`: which FerretDB backend the cluster tier should run on. The same
 * FerretDB program as the tier (test/cluster/ferretdb, one command at a time), once on
 * SQLite files and once on a fresh PostgreSQL database, each in its own process, loaded
 * from this one with the shop's pattern of writes: 16 clients, each placing "orders" that
 * are inserted with an owed event, moved by a conditional update on `_id`, relieved of
 * the event, and read back; in a collection seeded with 2,000 documents. Then one query
 * not on `_id` (the outbox scan's), which FerretDB answers by reading the collection.
 */
import mongoose from "mongoose";
import { startFerretDb, type FerretDbBackend } from "../test/cluster/servers";
import { count, ms, table } from "./lib/format";
import { loadAverage, machine, progress, settings } from "./lib/run";
import { percentile } from "./lib/stats";

const CLIENTS = 16;

type Order = {
	_id: string;
	status: string;
	total: number;
	items: { productId: string; quantity: number }[];
	outbox?: Record<string, object>;
	outboxSize: number;
};
const SEEDED = 2000;

type Result = { backend: FerretDbBackend; commandsPerSecond: number; ordersPerSecond: number; p50: number; p99: number; scanMs: number; documents: number };

async function measureBackend(backend: FerretDbBackend): Promise<Result> {
	progress(`FerretDB on ${backend}: seeding ${SEEDED} documents, then ${settings.seconds} s of load from ${CLIENTS} clients`);
	const server = await startFerretDb(backend);
	const client = await new mongoose.mongo.MongoClient(server.url, { maxPoolSize: CLIENTS }).connect();
	try {
		const orders = client.db("bench").collection<Order>("orders");
		await orders.insertMany(
			Array.from({ length: SEEDED }, (_, i) => ({ _id: `seed-${i}`, status: "paid", total: i, items: [{ productId: "p", quantity: 1 }], outboxSize: 0 })),
		);
		const latencies: number[] = [];
		const end = Date.now() + settings.seconds * 1000;
		let next = 0;
		await Promise.all(
			Array.from({ length: CLIENTS }, async () => {
				while (Date.now() < end) {
					const _id = `order-${next++}`;
					const started = Date.now();
					await orders.insertOne({
						_id,
						status: "pending",
						total: 900,
						items: [{ productId: "p", quantity: 1 }],
						outbox: { e1: { type: "order.created" } },
						outboxSize: 1,
					});
					await orders.findOneAndUpdate({ _id, status: "pending" }, { $set: { status: "paid" } }, { returnDocument: "after" });
					await orders.findOneAndUpdate({ _id }, { $unset: { "outbox.e1": "" as const }, $inc: { outboxSize: -1 } });
					await orders.findOne({ _id });
					latencies.push(Date.now() - started);
				}
			}),
		);
		const documents = await orders.countDocuments();
		const scanStarted = Date.now();
		await orders
			.find({ outboxSize: { $gt: 0 } })
			.limit(100)
			.toArray();
		const scanMs = Date.now() - scanStarted;
		const result = {
			backend,
			commandsPerSecond: (latencies.length * 4) / settings.seconds,
			ordersPerSecond: latencies.length / settings.seconds,
			p50: percentile(latencies, 50),
			p99: percentile(latencies, 99),
			scanMs,
			documents,
		};
		progress(`  ${count(result.commandsPerSecond)} commands/s, p99 ${ms(result.p99)} per order`);
		return result;
	} finally {
		await client.close();
		await server.stop();
	}
}

async function main(): Promise<void> {
	const load = loadAverage();
	const results = [await measureBackend("sqlite"), await measureBackend("postgresql")];
	const m = machine();
	console.log(`\nFerretDB 1.24 backends; ${m.cpus} × ${m.cpuModel}, Node ${m.node}; load average ${load.toFixed(1)} at the start.\n`);
	console.log(
		table(
			["backend", "commands/s", "orders/s", "p50 per order", "p99 per order", "query not on _id"],
			results.map(r => [
				r.backend,
				count(r.commandsPerSecond),
				count(r.ordersPerSecond),
				ms(r.p50),
				ms(r.p99),
				`${ms(r.scanMs)} (${count(r.documents)} documents)`,
			]),
			["commands/s", "orders/s", "p50 per order", "p99 per order"],
		),
	);
	const [slower, faster] = [...results].sort((a, b) => a.commandsPerSecond - b.commandsPerSecond);
	console.log(`\n${faster.backend} served ${(faster.commandsPerSecond / slower.commandsPerSecond).toFixed(1)} times the commands of ${slower.backend}.\n`);
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
