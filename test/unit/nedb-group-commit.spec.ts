import fs, { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Datastore from "@seald-io/nedb";
import { groupCommits } from "../../src/storage/nedb-group-commit";

type Doc = { _id: string; n: number };

/** The documents the file holds, as a restart would load them. */
async function reloaded(filename: string): Promise<Doc[]> {
	const db = new Datastore<Doc>({ filename });
	await db.loadDatabaseAsync();
	return (await db.findAsync({}).sort({ _id: 1 })) as Doc[];
}

const linesOf = (filename: string) =>
	readFileSync(filename, "utf8")
		.split("\n")
		.filter(line => line && !line.includes("$$indexCreated"));

describe("NeDB group commit", () => {
	let dir: string;
	let filename: string;
	let db: Datastore<Doc>;
	let closeFile: () => void;

	beforeEach(async () => {
		dir = mkdtempSync(path.join(os.tmpdir(), "group-commit-"));
		filename = path.join(dir, "docs.db");
		db = new Datastore<Doc>({ filename });
		await db.loadDatabaseAsync();
		closeFile = groupCommits(db);
	});

	afterEach(() => {
		closeFile();
		rmSync(dir, { recursive: true, force: true });
	});

	it("answers a write only once its line is in the file", async () => {
		const written = await Promise.all(
			Array.from({ length: 50 }, async (_, n) => {
				await db.insertAsync({ _id: `d${String(n).padStart(2, "0")}`, n });
				// The moment the caller hears of it, a crash would find it in the file.
				return linesOf(filename).some(line => JSON.parse(line)._id === `d${String(n).padStart(2, "0")}`);
			}),
		);
		expect(written.every(Boolean)).toBe(true);
		expect((await reloaded(filename)).map(d => d.n)).toEqual(Array.from({ length: 50 }, (_, n) => n));
	});

	it("writes the lines of concurrent writes in fewer appends, in the order they were made", async () => {
		await db.insertAsync({ _id: "k", n: 0 });
		const appends = jest.spyOn(fs, "writeSync");
		await Promise.all(Array.from({ length: 100 }, () => db.updateAsync({ _id: "k" }, { $inc: { n: 1 } })));
		// Every update's line is there, in order: the last line is the last state.
		const lines = linesOf(filename).map(line => JSON.parse(line) as Doc);
		expect(lines.map(d => d.n)).toEqual(Array.from({ length: 101 }, (_, n) => n));
		// NeDB alone appends once per write.
		expect(appends.mock.calls.length).toBeGreaterThan(0);
		expect(appends.mock.calls.length).toBeLessThan(10);
		expect(appends.mock.calls.every(([fd]) => fd === appends.mock.calls[0][0])).toBe(true);
		appends.mockRestore();
		expect(await reloaded(filename)).toEqual([{ _id: "k", n: 100 }]);
	});

	it("writes the lines NeDB writes: Dates come back as Dates, everything else as it was", async () => {
		const at = new Date("2026-11-25T10:00:00.000Z");
		await db.insertAsync({ _id: "dated", n: 1, at, nested: { list: [{ at }, 2, null], text: 'a "quoted" line' } } as unknown as Doc);
		await db.insertAsync({ _id: "plain", n: 2, nested: { list: [1, "two", null], flag: true } } as unknown as Doc);
		const [dated, plain] = (await reloaded(filename)) as unknown as Array<Record<string, unknown>>;
		expect(dated).toEqual({ _id: "dated", n: 1, at, nested: { list: [{ at }, 2, null], text: 'a "quoted" line' } });
		expect(dated.at).toBeInstanceOf(Date);
		expect(plain).toEqual({ _id: "plain", n: 2, nested: { list: [1, "two", null], flag: true } });
	});

	it("answers a read only once every write it may have seen is in the file", async () => {
		const insert = db.insertAsync({ _id: "seen", n: 1 });
		const found = await db.findOneAsync({ _id: "seen" });
		expect(found).toEqual({ _id: "seen", n: 1 });
		expect(linesOf(filename)).toHaveLength(1);
		await insert;
	});

	it("fails a write whose line could not be appended, and goes on with the next ones", async () => {
		const persistence = (db as unknown as { persistence: { filename: string } }).persistence;
		persistence.filename = path.join(dir, "missing", "docs.db");
		await expect(db.insertAsync({ _id: "lost", n: 1 })).rejects.toThrow(/ENOENT/);
		// A read after the failure is not failed by it.
		await expect(db.countAsync({})).resolves.toBe(1);
		persistence.filename = filename;
		await db.insertAsync({ _id: "kept", n: 2 });
		expect((await reloaded(filename)).map(d => d._id)).toEqual(["kept"]);
	});

	it("appends to the new file once compaction replaced the old one", async () => {
		await db.insertAsync({ _id: "before", n: 1 });
		await db.compactDatafileAsync();
		await db.insertAsync({ _id: "after", n: 2 });
		await db.updateAsync({ _id: "before" }, { $set: { n: 3 } });
		expect(await reloaded(filename)).toEqual([
			{ _id: "after", n: 2 },
			{ _id: "before", n: 3 },
		]);
	});

	it("appends what is still queued when the file is closed", async () => {
		const write = db.insertAsync({ _id: "last", n: 1 });
		// Microtasks only: the write is made and its line queued, but no turn has appended it yet.
		while (db.getAllData().length === 0) await Promise.resolve();
		expect(linesOf(filename)).toHaveLength(0);
		closeFile();
		expect(linesOf(filename)).toHaveLength(1);
		await write;
		expect(await reloaded(filename)).toEqual([{ _id: "last", n: 1 }]);
	});

	it("loses none of the writes still queued when the file is compacted", async () => {
		const writes = Array.from({ length: 20 }, (_, n) => db.insertAsync({ _id: `c${String(n).padStart(2, "0")}`, n }));
		await db.compactDatafileAsync();
		await Promise.all(writes);
		expect((await reloaded(filename)).map(d => d.n)).toEqual(Array.from({ length: 20 }, (_, n) => n));
	});
});
