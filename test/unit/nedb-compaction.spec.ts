import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Datastore from "@seald-io/nedb";
import { COMPACTION_SLICE, compactInSlices, startAutocompaction } from "../../src/storage/nedb-compaction";
import { groupCommits } from "../../src/storage/nedb-group-commit";

type Doc = { _id: string; n: number; at?: Date; email?: string };

/** The documents and unique indexes the file holds, as a restart would load them. */
async function reloaded(filename: string): Promise<{ docs: Doc[]; uniqueEmail: boolean }> {
	const db = new Datastore<Doc>({ filename });
	await db.loadDatabaseAsync();
	const indexes = (db as unknown as { indexes: Record<string, { unique: boolean }> }).indexes;
	return { docs: (await db.findAsync({}).sort({ n: 1 })) as Doc[], uniqueEmail: indexes.email?.unique === true };
}

describe("NeDB compaction in slices", () => {
	let dir: string;
	let filename: string;
	let db: Datastore<Doc>;
	let closeFile: () => void;

	beforeEach(async () => {
		dir = mkdtempSync(path.join(os.tmpdir(), "compaction-"));
		filename = path.join(dir, "docs.db");
		db = new Datastore<Doc>({ filename });
		await db.loadDatabaseAsync();
		compactInSlices(db);
		closeFile = groupCommits(db);
	});

	afterEach(() => {
		closeFile();
		rmSync(dir, { recursive: true, force: true });
	});

	it("writes every document and index as NeDB would: a restart loads the same data, Dates as Dates", async () => {
		const at = new Date("2026-12-04T10:00:00.000Z");
		await db.ensureIndexAsync({ fieldName: "email", unique: true, sparse: true });
		await db.insertAsync({ _id: "a", n: 1, at, email: "a@shop.test" });
		await db.insertAsync({ _id: "b", n: 2 });
		await db.updateAsync({ _id: "b" }, { $set: { n: 3 } });
		await db.removeAsync({ _id: "a" }, {});
		await db.insertAsync({ _id: "c", n: 4, at });
		await db.compactDatafileAsync();

		const { docs, uniqueEmail } = await reloaded(filename);
		expect(docs).toEqual([
			{ _id: "b", n: 3 },
			{ _id: "c", n: 4, at },
		]);
		expect(docs[1].at).toBeInstanceOf(Date);
		expect(uniqueEmail).toBe(true);
	});

	it("lets other work run while it serializes a large collection, and keeps the writes made meanwhile", async () => {
		const count = COMPACTION_SLICE * 3;
		await db.insertAsync(Array.from({ length: count }, (_, n) => ({ _id: `d${n}`, n })));
		// Turns of the event loop that other work had by the time the last document was serialized.
		let turns = 0;
		let turnsWhileSerializing: number | undefined;
		const persistence = (db as unknown as { persistence: { afterSerialization(line: string): string } }).persistence;
		const afterSerialization = persistence.afterSerialization;
		persistence.afterSerialization = line => {
			if (line.includes(`"_id":"d${count - 1}"`)) turnsWhileSerializing = turns;
			return afterSerialization(line);
		};
		let done = false;
		const tick = () => {
			turns += 1;
			if (turnsWhileSerializing === undefined && !done) setImmediate(tick);
		};
		setImmediate(tick);
		const compaction = db.compactDatafileAsync();
		// A write while the file is rewritten waits for it, and is not lost to the rename.
		const write = db.insertAsync({ _id: "during", n: count });
		await Promise.all([compaction, write]);
		done = true;

		expect(turnsWhileSerializing).toBeGreaterThanOrEqual(2);
		const { docs } = await reloaded(filename);
		expect(docs).toHaveLength(count + 1);
		expect(docs[count]).toEqual({ _id: "during", n: count });
	});
});

describe("autocompaction", () => {
	beforeEach(() => jest.useFakeTimers());
	afterEach(() => jest.useRealTimers());

	it("compacts first at a random moment of the interval, then every interval, until stopped", () => {
		const db = new Datastore<Doc>({});
		const compactions = jest.spyOn(db, "compactDatafileAsync").mockResolvedValue(undefined);
		const stop = startAutocompaction(db, 60_000, () => 0.25);

		jest.advanceTimersByTime(14_999);
		expect(compactions).not.toHaveBeenCalled();
		jest.advanceTimersByTime(1);
		expect(compactions).toHaveBeenCalledTimes(1);
		jest.advanceTimersByTime(60_000);
		expect(compactions).toHaveBeenCalledTimes(2);

		stop();
		jest.advanceTimersByTime(180_000);
		expect(compactions).toHaveBeenCalledTimes(2);
	});

	it("never compacts more often than every 5 s, as NeDB", () => {
		const db = new Datastore<Doc>({});
		const compactions = jest.spyOn(db, "compactDatafileAsync").mockResolvedValue(undefined);
		const stop = startAutocompaction(db, 100, () => 0);
		jest.advanceTimersByTime(10_000);
		expect(compactions).toHaveBeenCalledTimes(3);
		stop();
	});
});
