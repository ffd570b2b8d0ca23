import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { lacks, openCollection } from "../../src/storage/collection";

type Hold = { _id: string; quantity: number; state: string; marks?: string[] };

describe("a collection of its own (SQLite in memory under test)", () => {
	const holds = () => openCollection<Hold>({ name: `holds-${Math.random()}`, indexes: ["state"] });

	it("inserts a key once: a second insert of it writes nothing", async () => {
		const c = holds();
		expect(await c.insertIfNew({ _id: "o1:p1", quantity: 2, state: "taking" })).toBe(true);
		expect(await c.insertIfNew({ _id: "o1:p1", quantity: 9, state: "held" })).toBe(false);
		expect(await c.byId("o1:p1")).toEqual({ _id: "o1:p1", quantity: 2, state: "taking" });
		expect(await c.count()).toBe(1);
	});

	it("updates a record only while it matches, and answers it as it is after", async () => {
		const c = holds();
		await c.insertIfNew({ _id: "k", quantity: 1, state: "taking", marks: [] });
		expect(await c.updateOne({ _id: "k", state: "taking", ...lacks("marks", "m") }, { $set: { state: "held" }, $push: { marks: "m" } })).toMatchObject({
			state: "held",
			marks: ["m"],
		});
		expect(await c.updateOne({ _id: "k", state: "taking" }, { $set: { state: "released" } })).toBeNull();
		expect(await c.updateOne({ _id: "k", ...lacks("marks", "m") }, { $set: { state: "released" } })).toBeNull();
		expect((await c.byId("k"))?.state).toBe("held");
	});

	it("removes a record only while it matches", async () => {
		const c = holds();
		await c.insertIfNew({ _id: "k", quantity: 1, state: "held" });
		expect(await c.removeOne({ _id: "k", state: "taking" })).toBe(false);
		expect(await c.removeOne({ _id: "k", state: "held" })).toBe(true);
		expect(await c.byId("k")).toBeNull();
	});

	it("finds by a field, sorted and limited", async () => {
		const c = holds();
		for (const [id, state] of [
			["a", "held"],
			["b", "taking"],
			["c", "held"],
		])
			await c.insertIfNew({ _id: id, quantity: 1, state });
		expect((await c.find({ state: "held" }, { sort: { _id: -1 }, limit: 1 })).map(h => h._id)).toEqual(["c"]);
		expect((await c.find({}, { sort: { _id: 1 }, skip: 1, limit: 1 })).map(h => h._id)).toEqual(["b"]);
	});

	it("removes every record that matches a sweep, and only those", async () => {
		const c = holds();
		for (const [id, quantity] of [
			["a", 1],
			["b", 5],
			["c", 2],
		] as const)
			await c.insertIfNew({ _id: id, quantity, state: "held" });
		expect(await c.removeMany({ quantity: { $lt: 3 } })).toBe(2);
		expect((await c.find({})).map(h => h._id)).toEqual(["b"]);
	});
});

type CollectionModule = typeof import("../../src/storage/collection");

describe("a collection of its own in a SQLite file", () => {
	let dir: string;
	beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), "collection-"))));
	afterEach(() => rmSync(dir, { recursive: true, force: true }));

	/** The collection module as a shop with DATA_DIR=dir loads it. */
	const storedIn = (dataDir: string): CollectionModule => {
		let loaded: CollectionModule | undefined;
		process.env.DATA_DIR = dataDir;
		try {
			jest.isolateModules(() => {
				loaded = jest.requireActual<CollectionModule>("../../src/storage/collection");
			});
		} finally {
			delete process.env.DATA_DIR;
		}
		return loaded!;
	};

	/** The indexes the file holds, besides its key. */
	function indexesInFile(filename: string): string[] {
		const db = new DatabaseSync(filename, { readOnly: true });
		try {
			return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").all() as { name: string }[]).map(
				row => row.name,
			);
		} finally {
			db.close();
		}
	}

	it("keeps its records across a restart, and only the indexes it declares now", async () => {
		const filename = path.join(dir, "holds.sqlite");
		const first = storedIn(dir).openCollection<Hold>({ name: "holds", indexes: ["state", "quantity"] });
		await first.insertIfNew({ _id: "k", quantity: 1, state: "held" });
		first.close();
		expect(indexesInFile(filename)).toEqual(["by_quantity", "by_state"]);

		const again = storedIn(dir).openCollection<Hold>({ name: "holds", indexes: ["state"] });
		expect(await again.byId("k")).toEqual({ _id: "k", quantity: 1, state: "held" });
		again.close();
		expect(indexesInFile(filename)).toEqual(["by_state"]);
	});
});
