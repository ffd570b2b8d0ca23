import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import os from "node:os";
import path from "node:path";
import Datastore from "@seald-io/nedb";
import { isDuplicateKeyError } from "../../src/storage/collection";
import { SqliteAdapter } from "../../src/storage/sqlite-adapter";
import { compactChurnedFiles, openSqliteCollection, SqliteCollection, type Sort, type TableIndex } from "../../src/storage/sqlite-collection";

type Doc = {
	_id: string;
	userId: string;
	status: string;
	createdAt: string;
	amount: number;
	active: boolean;
	tags: string[];
	note: string;
	releaseAt?: string;
	/** Of mixed types: a number, a string, a boolean, or null. */
	code: unknown;
};

/** A fixed mix of documents: some share values, some lack the sparse field. */
function documents(): Doc[] {
	return Array.from({ length: 240 }, (_, i) => ({
		_id: `d${String(i).padStart(3, "0")}`,
		userId: `u${i % 5}`,
		status: ["pending", "paid", "cancelled"][(i * 7) % 3],
		createdAt: new Date(Date.UTC(2026, 0, 1) + ((i * 37) % 240) * 60_000).toISOString(),
		amount: (i * 13) % 100,
		active: i % 4 !== 0,
		tags: i % 6 === 0 ? ["x", "y"] : ["y"],
		note: ["apple", "berry", "cherry", "date"][i % 4],
		...(i % 3 === 0 ? { releaseAt: new Date(Date.UTC(2026, 0, 1) + i * 1_000).toISOString() } : {}),
		code: [i % 50, String(i % 50), i % 2 === 0, null][i % 4],
	}));
}

const INDEXES: TableIndex[] = [
	{ fields: { userId: 1, createdAt: -1 } },
	{ fields: { status: 1 } },
	{ fields: { amount: 1 } },
	{ fields: { active: 1 } },
	{ fields: { releaseAt: 1 }, sparse: true },
	{ fields: { code: 1 } },
];

/** Queries both where SQL decides everything and where JavaScript finishes what SQL began. */
const QUERIES: { query: object; sort?: Sort; skip?: number; limit?: number }[] = [
	{ query: {} },
	{ query: { userId: "u1" }, sort: { createdAt: -1 }, limit: 5 },
	{ query: { status: { $in: ["paid", "cancelled"] } }, sort: { amount: 1, _id: 1 } },
	{ query: { amount: { $gte: 10, $lt: 50 } }, sort: { _id: 1 } },
	{ query: { active: true, status: { $ne: "paid" } }, sort: { _id: -1 }, skip: 3, limit: 7 },
	{ query: { active: false } },
	{ query: { userId: "u2", tags: "x" }, sort: { createdAt: 1 } },
	{ query: { $or: [{ status: "paid" }, { amount: { $gt: 90 } }] }, sort: { _id: 1 }, limit: 9 },
	{ query: { note: { $regex: /rr/ } }, sort: { createdAt: 1, _id: 1 }, skip: 3, limit: 4 },
	{ query: { releaseAt: { $lt: "2026-01-01T00:01:00.000Z" } }, sort: { releaseAt: -1 } },
	{ query: { _id: { $gt: "d200" } }, sort: { _id: 1 }, limit: 10 },
	{ query: { status: "paid" }, sort: { amount: -1, _id: 1 }, skip: 2, limit: 3 },
	{ query: { status: "paid", note: "date" }, sort: { note: 1, _id: -1 } },
	{ query: { amount: { $in: [] } } },
	{ query: { releaseAt: { $ne: "2026-01-01T00:00:00.000Z" } }, sort: { _id: 1 } },
	{ query: { _id: { $in: ["d001", "d017", "missing"] } } },
	{ query: { status: /^pa/ }, sort: { _id: 1 } },
	{ query: { status: {} } },
	{ query: { code: 4 } },
	{ query: { code: "5" } },
	{ query: { code: true } },
	{ query: { code: { $gt: 20 } }, sort: { _id: 1 } },
	{ query: { code: { $lt: "3" } }, sort: { _id: 1 } },
	{ query: { code: { $ne: true } }, sort: { code: 1, _id: 1 } },
	{ query: { code: { $in: [4, "5", 12] } }, sort: { _id: 1 } },
	{ query: { code: null }, sort: { _id: 1 } },
	{ query: { code: { $gte: false } }, sort: { _id: 1 } },
	{ query: { active: true, code: { $exists: true } }, sort: { code: -1, _id: 1 }, limit: 30 },
];

describe("the embedded store (SQLite)", () => {
	let dir: string;
	beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), "sqlite-collection-"))));
	afterEach(() => rmSync(dir, { recursive: true, force: true }));

	it("finds, counts, updates and removes exactly what NeDB's MongoDB-style queries do", async () => {
		const sqlite = new SqliteCollection<Doc>("docs", null, INDEXES);
		const nedb = new Datastore<Doc>();
		for (const doc of documents()) {
			await sqlite.insert(doc);
			await nedb.insertAsync(doc);
		}
		const ids = (docs: Doc[]) => docs.map(doc => doc._id);
		for (const { query, sort, skip, limit } of QUERIES) {
			let cursor = nedb.findAsync(query);
			if (sort) cursor = cursor.sort(sort);
			if (skip) cursor = cursor.skip(skip);
			if (limit) cursor = cursor.limit(limit);
			const expected = ids(await cursor);
			const found = ids(await sqlite.find(query, { sort, skip, limit }));
			expect({ query, found: sort ? found : found.sort() }).toEqual({ query, found: sort ? expected : expected.sort() });
			expect({ query, count: await sqlite.count(query) }).toEqual({ query, count: await nedb.countAsync(query) });
		}
		const update = { $inc: { amount: 1000 }, $push: { tags: "z" } };
		expect(await sqlite.updateMany({ status: "paid", tags: "x" }, update)).toBe(
			(await nedb.updateAsync({ status: "paid", tags: "x" }, update, { multi: true })).numAffected,
		);
		expect(await sqlite.removeMany({ amount: { $lt: 20 } })).toBe(await nedb.removeAsync({ amount: { $lt: 20 } }, { multi: true }));
		expect(await sqlite.removeMany({ note: { $regex: /^a/ } })).toBe(await nedb.removeAsync({ note: { $regex: /^a/ } }, { multi: true }));
		expect(await sqlite.removeMany({ status: /^zzz/ })).toBe(await nedb.removeAsync({ status: /^zzz/ }, { multi: true }));
		expect(await sqlite.find({}, { sort: { _id: 1 } })).toEqual(await nedb.findAsync({}).sort({ _id: 1 }));
	});

	it("changes a document exactly as NeDB does, for every kind of update, refusals included", async () => {
		const start = () => ({
			_id: "d1",
			status: "pending",
			amount: 5,
			label: "x",
			nothing: null,
			tags: ["a"],
			outbox: { e1: { type: "order.created", at: "2026-01-01T00:00:00.000Z" }, e2: { type: "order.paid" } },
			outboxSize: 2,
			nested: { deep: { n: 1 } },
		});
		const updates: object[] = [
			{ $set: { status: "paid", "outbox.e3": { type: "x" } }, $inc: { outboxSize: 1 } },
			{ $unset: { "outbox.e1": "", outboxSize: "" } },
			{ $unset: { "outbox.e1": "" }, $inc: { outboxSize: -1 } },
			{ $unset: { "missing.path": "", "outbox.none": "" } },
			{ $set: { "made.on.the.way": 1 }, $inc: { "counts.new": 2, amount: 1.5 } },
			{ $set: { "nested.deep.n": 2, "nested.other": [1] } },
			{ $set: { a: 1 }, $unset: { a: "" } },
			{ $set: { nested: {} }, $inc: { "nested.n": 1 } },
			{ $set: { "tags.0": "b" } },
			{ $set: { "label.x": 1 } },
			{ $inc: { label: 1 } },
			{ $inc: { amount: "1" } },
			{ $set: { "nothing.x": 1 } },
			{ $set: { _id: "other" } },
			{ $set: { "bad.$key": 1 } },
			{ $set: { bad: { "a.b": 1 } } },
			{ $set: {} },
			{ $push: { tags: "b" }, $set: { status: "paid" } },
			{ status: "replaced" },
			{},
		];
		for (const update of updates) {
			const sqlite = new SqliteCollection<{ _id: string }>("docs", null, [{ fields: { status: 1 } }, { fields: { outboxSize: 1 }, sparse: true }]);
			const nedb = new Datastore<{ _id: string }>();
			await sqlite.insert(start());
			await nedb.insertAsync(start());
			const outcome = async (run: () => Promise<unknown>) =>
				run().then(
					() => "changed",
					(err: Error) => err.message,
				);
			const expected = await outcome(() => nedb.updateAsync({ _id: "d1" }, update, {}));
			const got = await outcome(() => sqlite.updateOne({ _id: "d1" }, update));
			expect({ update, got }).toEqual({ update, got: expected });
			expect({ update, doc: await sqlite.byId("d1") }).toEqual({ update, doc: await nedb.findOneAsync({ _id: "d1" }) });
			expect({ update, byIndex: (await sqlite.find({ status: "paid" })).length }).toEqual({ update, byIndex: await nedb.countAsync({ status: "paid" }) });
		}
	});

	it("serves a key, an indexed field and its sort from an index, without reading the whole table", () => {
		const sqlite = new SqliteCollection<Doc>("docs", null, INDEXES);
		expect(sqlite.plan({ _id: "d001" }).join()).toMatch(/USING (INDEX|PRIMARY KEY)/);
		expect(sqlite.plan({ userId: "u1" }, { createdAt: -1 }).join()).toMatch(/USING INDEX by_userId_createdAt_desc/);
		expect(sqlite.plan({ userId: "u1" }, { createdAt: -1 }).join()).not.toMatch(/TEMP B-TREE/);
		expect(sqlite.plan({ releaseAt: { $lt: "2026" } }).join()).toMatch(/USING INDEX by_sparse_releaseAt/);
	});

	it("refuses a document whose index field holds what SQL cannot compare as NeDB does (an array, an object, a Date)", async () => {
		const docs = new SqliteCollection<{ _id: string; tag?: unknown }>("docs", null, [{ fields: { tag: 1 } }]);
		await expect(docs.insert({ _id: "a", tag: ["x"] })).rejects.toThrow(/index field tag/);
		await docs.insert({ _id: "b", tag: "x" });
		await expect(docs.updateOne({ _id: "b" }, { $set: { tag: new Date() } })).rejects.toThrow(/index field tag/);
		expect(await docs.find({})).toEqual([{ _id: "b", tag: "x" }]);
	});

	it("gives a document inserted without an id an ObjectId, as MongoDB would: later ones sort after earlier ones", async () => {
		const docs = new SqliteCollection<{ _id: string; n: number }>("docs", null);
		const first = await docs.insert({ n: 1 } as { _id: string; n: number });
		const second = await docs.insert({ n: 2 } as { _id: string; n: number });
		expect(first._id).toMatch(/^[0-9a-f]{24}$/);
		expect([second._id, first._id].sort()).toEqual([first._id, second._id]);
		expect((await docs.find({}, { sort: { _id: 1 } })).map(doc => doc.n)).toEqual([1, 2]);
	});

	it("refuses a field name that begins with $ or holds a dot, however deep, as NeDB does, and writes nothing", async () => {
		const docs = new SqliteCollection<{ _id: string; [field: string]: unknown }>("docs", null);
		await expect(docs.insert({ _id: "a", $where: "1" })).rejects.toThrow(/cannot begin with the \$ character/);
		await expect(docs.insert({ _id: "a", items: [{ "unit.price": 1 }] })).rejects.toThrow(/cannot contain a \./);
		await docs.insert({ _id: "b", note: "$ and . are fine in values", at: new Date("2026-12-04T00:00:00.000Z") });
		await expect(docs.updateOne({ _id: "b" }, { $set: { meta: { deep: { $gt: 1 } } } })).rejects.toThrow(/cannot begin with the \$ character/);
		expect(await docs.find({})).toEqual([{ _id: "b", note: "$ and . are fine in values", at: new Date("2026-12-04T00:00:00.000Z") }]);
	});

	it("refuses a second document with a unique key, on insert and on update, and writes nothing", async () => {
		const users = new SqliteCollection<{ _id: string; email: string; name?: string }>("users", null, [{ fields: { email: 1 }, unique: true }]);
		await users.insert({ _id: "a", email: "a@shop.test" });
		await users.insert({ _id: "b", email: "b@shop.test" });
		const refused = await users.insert({ _id: "c", email: "a@shop.test" }).catch((err: unknown) => err);
		expect(isDuplicateKeyError(refused)).toBe(true);
		expect(await users.insertIfNew({ _id: "a", email: "other@shop.test" })).toBe(false);
		const refusedUpdate = await users.updateOne({ _id: "b" }, { $set: { email: "a@shop.test", name: "B" } }).catch((err: unknown) => err);
		expect(isDuplicateKeyError(refusedUpdate)).toBe(true);
		expect(await users.find({}, { sort: { _id: 1 } })).toEqual([
			{ _id: "a", email: "a@shop.test" },
			{ _id: "b", email: "b@shop.test" },
		]);
	});

	it("changes every matching document or none: a multi-document update that fails half-way leaves all as they were", async () => {
		const users = new SqliteCollection<{ _id: string; email: string; group: string }>("users", null, [{ fields: { email: 1 }, unique: true }]);
		await users.insert({ _id: "a", email: "a", group: "g" });
		await users.insert({ _id: "b", email: "b", group: "g" });
		await expect(users.updateMany({ group: "g" }, { $set: { email: "same" } })).rejects.toThrow(/unique/);
		expect((await users.find({}, { sort: { _id: 1 } })).map(user => user.email)).toEqual(["a", "b"]);
	});

	it("applies concurrent conditional updates one at a time: ten units of stock sell ten times, never more", async () => {
		const products = new SqliteCollection<{ _id: string; stock: number }>("products", null);
		await products.insert({ _id: "p", stock: 10 });
		const sales = await Promise.all(Array.from({ length: 50 }, () => products.updateOne({ _id: "p", stock: { $gte: 1 } }, { $inc: { stock: -1 } })));
		expect(sales.filter(Boolean)).toHaveLength(10);
		expect(await products.byId("p")).toEqual({ _id: "p", stock: 0 });
	});

	/** Runs `script` in a process of its own, with `collection` (the collection `name` in `dir`) in scope, and expects it to kill itself as soon as it has its answer. */
	function killedAfter(name: string, script: string): void {
		const child = spawnSync(
			process.execPath,
			[
				"--import",
				"tsx",
				"-e",
				`const { openSqliteCollection } = require(${JSON.stringify(path.resolve("src/storage/sqlite-collection.ts"))});
				const collection = openSqliteCollection(${JSON.stringify(name)}, ${JSON.stringify(dir)});
				const killed = () => process.kill(process.pid, "SIGKILL");
				${script}`,
			],
			{ encoding: "utf8" },
		);
		expect(child.signal).toBe("SIGKILL");
	}

	it("keeps Dates as Dates, and every write that answered survives the process being killed", async () => {
		killedAfter(
			"orders",
			`Promise.all(Array.from({ length: 100 }, (_, i) => collection.insert({ _id: "o" + i, at: new Date(Date.UTC(2026, 11, 4)), total: 5 })))
				.then(() => collection.updateOne({ _id: "o1" }, { $inc: { total: 2 } }))
				.then(killed);`,
		);
		const orders = openSqliteCollection<{ _id: string; at: Date; total: number }>("orders", dir);
		expect(await orders.count()).toBe(100);
		expect(await orders.byId("o1")).toEqual({ _id: "o1", at: new Date(Date.UTC(2026, 11, 4)), total: 7 });
		orders.close();
	});

	it("answers a read that saw a write of the same moment only once that write is in the file", async () => {
		// The process dies the moment the read answers, before it hears of the write itself.
		killedAfter("orders", `collection.insert({ _id: "o1", total: 5 }); collection.byId("o1").then(found => found && killed());`);
		const orders = openSqliteCollection<{ _id: string; total: number }>("orders", dir);
		expect(await orders.byId("o1")).toEqual({ _id: "o1", total: 5 });
		orders.close();
	});

	it("tells each writer of a turn that SQLite rolled back (a full disk) so, and keeps exactly the writes it said it made", async () => {
		const file = path.join(dir, "orders.sqlite");
		const orders = new SqliteCollection<{ _id: string; text: string }>("orders", file);
		await orders.insert({ _id: "before", text: "" });
		const { db } = orders as unknown as { db: DatabaseSync };
		const pages = (db.prepare("PRAGMA page_count").get() as { page_count: number }).page_count;
		db.exec(`PRAGMA max_page_count = ${pages + 4}`);
		const outcomes = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => orders.insert({ _id: `o${i}`, text: "x".repeat(3_000) })));
		const told = outcomes.flatMap((outcome, i) => (outcome.status === "fulfilled" ? [`o${i}`] : []));
		expect(outcomes.filter(outcome => outcome.status === "rejected").length).toBeGreaterThan(0);
		(orders as unknown as { db: DatabaseSync }).db.exec("PRAGMA max_page_count = 1000000");
		expect((await orders.find({}, { sort: { _id: 1 } })).map(order => order._id)).toEqual(["before", ...told].sort());
		orders.close();
	});

	it("answers that a key exists only once the document holding it is in the file", async () => {
		// The process dies the moment the second insert hears "exists", before the first hears it was made.
		killedAfter("inbox", `collection.insertIfNew({ _id: "event-1" }); collection.insertIfNew({ _id: "event-1" }).then(inserted => inserted || killed());`);
		const inbox = openSqliteCollection<{ _id: string }>("inbox", dir);
		expect(await inbox.byId("event-1")).toEqual({ _id: "event-1" });
		inbox.close();
	});

	it("lets go of its file when it cannot open (a unique index over duplicates), so that the next start gets the real error again", async () => {
		const users = openSqliteCollection<{ _id: string; email: string }>("users", dir);
		await users.insert({ _id: "a", email: "same@shop.test" });
		await users.insert({ _id: "b", email: "same@shop.test" });
		users.close();
		const unique = [{ fields: { email: 1 as const }, unique: true }];
		expect(() => openSqliteCollection("users", dir, unique)).toThrow(/UNIQUE constraint failed/);
		expect(() => openSqliteCollection("users", dir, unique)).toThrow(/UNIQUE constraint failed/);
		const adapter = new SqliteAdapter({ name: "users", dataDir: dir, indexes: [] });
		await adapter.connect();
		// moleculer-db connects again when a start fails after connecting: the same process must not lock itself out.
		await adapter.connect();
		expect(await adapter.count()).toBe(2);
		await adapter.disconnect();
	});

	it("holds its file while open: another shop on the same DATA_DIR is refused at start, and a clear error says why", async () => {
		const orders = openSqliteCollection<{ _id: string }>("orders", dir);
		await orders.insert({ _id: "o1" });
		expect(() => openSqliteCollection("orders", dir)).toThrow(/orders\.sqlite is locked by another connection: is another shop running on DATA_DIR/);
		const child = spawnSync(
			process.execPath,
			["-e", `new (require("node:sqlite").DatabaseSync)(${JSON.stringify(path.join(dir, "orders.sqlite"))}).prepare("SELECT 1 FROM docs").get()`],
			{
				encoding: "utf8",
			},
		);
		expect(child.stderr).toMatch(/database is locked/);
		orders.close();
		const again = openSqliteCollection<{ _id: string }>("orders", dir);
		expect(await again.count()).toBe(1);
		again.close();
	});

	it("adds the column of a field indexed since the file was written, filled from the documents", async () => {
		const first = openSqliteCollection<{ _id: string; state: string }>("holds", dir);
		await first.insert({ _id: "a", state: "held" });
		await first.insert({ _id: "b", state: "taking" });
		first.close();
		const again = openSqliteCollection<{ _id: string; state: string }>("holds", dir, [{ fields: { state: 1 } }]);
		expect(again.plan({ state: "held" }).join()).toMatch(/USING INDEX by_state/);
		expect(await again.find({ state: "held" })).toEqual([{ _id: "a", state: "held" }]);
		again.close();
	});

	/** The text each document of `<dir>/<name>.sqlite` has in the file, by `_id` (the collection closed). */
	const textsIn = (name: string) => {
		const db = new DatabaseSync(path.join(dir, `${name}.sqlite`), { readOnly: true });
		try {
			return Object.fromEntries(
				(db.prepare("SELECT id, doc FROM docs ORDER BY id").all() as { id: string; doc: string }[]).map(row => [row.id, JSON.parse(row.doc)]),
			);
		} finally {
			db.close();
		}
	};

	it("keeps _id and each index field of the document's own once, in its column: the text leaves them out, every read gives the document back whole", async () => {
		type Kept = { _id: string; status?: string | null; amount?: number; active?: boolean; line?: { sku: string }; note: string };
		const indexes: TableIndex[] = [{ fields: { status: 1, amount: -1 } }, { fields: { active: 1 } }, { fields: { "line.sku": 1 } }];
		const docs: Kept[] = [
			{ _id: "a", status: "paid", amount: 12.5, active: true, line: { sku: "s1" }, note: "x" },
			{ _id: "b", status: null, amount: 0, active: false, note: "y" },
			{ _id: "c", note: "z" },
		];
		const first = openSqliteCollection<Kept>("kept", dir, indexes);
		expect(await first.insert(docs[0])).toEqual(docs[0]);
		await first.insertMany(docs.slice(1));
		expect(await first.updateOne({ _id: "c" }, { $set: { amount: 2 ** 60, status: "new" } })).toEqual({ ...docs[2], amount: 2 ** 60, status: "new" });
		first.close();

		expect(textsIn("kept")).toEqual({
			a: { line: { sku: "s1" }, note: "x" },
			b: { status: null, note: "y" },
			c: { note: "z" },
		});
		const again = openSqliteCollection<Kept>("kept", dir, indexes);
		const expected = [docs[0], docs[1], { ...docs[2], amount: 2 ** 60, status: "new" }];
		expect(await again.find({}, { sort: { _id: 1 } })).toEqual(expected);
		expect(await again.byId("b")).toEqual(docs[1]);
		expect(await again.find({ active: false })).toEqual([docs[1]]);
		expect(await again.find({ status: null }, { sort: { _id: 1 } })).toEqual([docs[1]]);
		expect(await again.find({ note: "x", active: true })).toEqual([docs[0]]);
		again.close();
	});

	it("keeps a string with a lone surrogate exact, in an index field or the id, and a field named __proto__", async () => {
		type Odd = { _id: string; name: string };
		const odd = "\ud800x";
		const first = openSqliteCollection<Odd>("odd", dir, [{ fields: { name: 1 } }]);
		await first.insert({ _id: odd, name: odd });
		await first.insert(JSON.parse('{"_id":"p","name":"n","__proto__":{"a":1}}'));
		first.close();
		const again = openSqliteCollection<Odd>("odd", dir, [{ fields: { name: 1 } }]);
		expect(await again.byId(odd)).toEqual({ _id: odd, name: odd });
		expect(JSON.stringify(await again.byId("p"))).toBe('{"__proto__":{"a":1},"_id":"p","name":"n"}');
		again.close();
	});

	it("reads a document whose text still holds its index fields, as files written before they left it do", async () => {
		const db = new DatabaseSync(path.join(dir, "older.sqlite"));
		db.exec('CREATE TABLE docs (id TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL, "f:status")');
		db.prepare('INSERT INTO docs (id, doc, "f:status") VALUES (?, ?, ?)').run("a", JSON.stringify({ _id: "a", status: "paid", note: "x" }), "paid");
		db.close();
		const older = openSqliteCollection<{ _id: string; status: string; note: string }>("older", dir, [{ fields: { status: 1 } }]);
		expect(await older.find({ status: "paid" })).toEqual([{ _id: "a", status: "paid", note: "x" }]);
		expect(await older.updateOne({ _id: "a" }, { $set: { status: "shipped" } })).toEqual({ _id: "a", status: "shipped", note: "x" });
		expect(await older.find({ status: "shipped" })).toEqual([{ _id: "a", status: "shipped", note: "x" }]);
		older.close();
		expect(textsIn("older")).toEqual({ a: { note: "x" } });
	});

	it("writes an index field back into every document that left it to its column, before the column goes", async () => {
		type Held = { _id: string; state?: string; active?: boolean; quantity: number };
		const first = openSqliteCollection<Held>("holds", dir, [{ fields: { state: 1 } }, { fields: { active: 1 } }]);
		await first.insertMany([
			{ _id: "a", state: "held", active: true, quantity: 1 },
			{ _id: "b", active: false, quantity: 2 },
		]);
		first.close();
		const again = openSqliteCollection<Held>("holds", dir, [{ fields: { active: 1 } }]);
		expect(await again.find({}, { sort: { _id: 1 } })).toEqual([
			{ _id: "a", state: "held", active: true, quantity: 1 },
			{ _id: "b", active: false, quantity: 2 },
		]);
		again.close();
		expect(textsIn("holds")).toEqual({ a: { state: "held", quantity: 1 }, b: { quantity: 2 } });
		const none = openSqliteCollection<Held>("holds", dir);
		expect(await none.find({ active: true })).toEqual([{ _id: "a", state: "held", active: true, quantity: 1 }]);
		none.close();
	});

	describe("compaction", () => {
		type Placed = { _id: string; status: string; outbox?: Record<string, string> };
		const UNLIMITED = Number.MAX_SAFE_INTEGER;
		const placed = (i: number): Placed => ({ _id: `o${String(i).padStart(5, "0")}`, status: "pending", outbox: { created: "e".repeat(1500) } });
		/** `count` orders, each written with a large outbox that an update then takes off, as an order's events go out. */
		async function churned(count: number): Promise<SqliteCollection<Placed>> {
			const orders = openSqliteCollection<Placed>("orders", dir, [{ fields: { status: 1 } }]);
			await orders.insertMany(Array.from({ length: count }, (_, i) => placed(i)));
			await Promise.all(
				Array.from({ length: count }, (_, i) => orders.updateOne({ _id: placed(i)._id }, { $set: { status: "paid" }, $unset: { outbox: true } })),
			);
			return orders;
		}

		it("gives back the room that shrunk documents left, once they were rewritten as many times as the file holds documents, and keeps every one", async () => {
			const orders = await churned(2_000);
			const sizes = await orders.compact(UNLIMITED);
			expect(sizes).not.toBeNull();
			expect(sizes!.after).toBeLessThan(sizes!.before * 0.5);
			expect(await orders.compact(UNLIMITED)).toBeNull();
			expect(await orders.count({ status: "paid" })).toBe(2_000);
			orders.close();
			const again = openSqliteCollection<Placed>("orders", dir, [{ fields: { status: 1 } }]);
			expect(await again.find({}, { sort: { _id: 1 } })).toEqual(Array.from({ length: 2_000 }, (_, i) => ({ _id: placed(i)._id, status: "paid" })));
			again.close();
		});

		it("leaves a file alone while it took fewer writes than it holds documents, or while it is larger than the limit", async () => {
			const first = openSqliteCollection<Placed>("orders", dir, [{ fields: { status: 1 } }]);
			await first.insertMany(Array.from({ length: 2_000 }, (_, i) => placed(i)));
			expect(await first.compact(UNLIMITED)).not.toBeNull();
			await first.close();
			const orders = openSqliteCollection<Placed>("orders", dir, [{ fields: { status: 1 } }]);
			await Promise.all(
				Array.from({ length: 1_500 }, (_, i) => orders.updateOne({ _id: placed(i)._id }, { $set: { status: "paid" }, $unset: { outbox: true } })),
			);
			expect(await orders.compact(UNLIMITED)).toBeNull();
			expect(await orders.removeMany({ status: "pending" })).toBe(500);
			expect(await orders.compact(1024)).toBeNull();
			expect(await orders.compact(UNLIMITED)).not.toBeNull();
			orders.close();
		});

		it("counts the writes since the last compaction across restarts: a shop restarted often still compacts", async () => {
			const orders = await churned(1_000);
			await orders.close();
			// The file's header holds the count (user_version, 4 bytes at offset 60).
			const countInHeader = () => readFileSync(path.join(dir, "orders.sqlite")).readUInt32BE(60);
			expect(countInHeader()).toBe(2_000);
			const again = openSqliteCollection<Placed>("orders", dir, [{ fields: { status: 1 } }]);
			expect(await again.compact(UNLIMITED)).not.toBeNull();
			// Already in the compacted file, should the process die before it closes the file.
			expect(countInHeader()).toBe(0);
			await again.close();
			// The compaction starts the count over, in the file too.
			const third = openSqliteCollection<Placed>("orders", dir, [{ fields: { status: 1 } }]);
			expect(await third.compact(UNLIMITED)).toBeNull();
			await third.close();
		});

		it("counts inserts too: a file that took as many as it holds documents is worth a compaction", async () => {
			const log = openSqliteCollection<Placed>("log", dir, [{ fields: { status: 1 } }]);
			await log.insertMany(Array.from({ length: 999 }, (_, i) => placed(i)));
			expect(await log.compact(UNLIMITED)).toBeNull();
			await log.insert(placed(999));
			expect(await log.compact(UNLIMITED)).not.toBeNull();
			log.close();
		});

		it("copies the file off the event loop; the calls to the collection meanwhile wait, and run in the order they came", async () => {
			const orders = await churned(2_000);
			const compacting = orders.compact(UNLIMITED);
			const during = [
				orders.updateOne({ _id: placed(1)._id }, { $set: { status: "shipped" } }),
				orders.byId(placed(1)._id),
				orders.removeOne({ _id: placed(2)._id }),
				orders.count({ status: "paid" }),
			];
			// A timer set after the compaction started fires before it ends: nothing held the event loop for the copy.
			expect(await Promise.race([compacting, new Promise(resolve => setTimeout(resolve, 0, "a timer"))])).toBe("a timer");
			const sizes = await compacting;
			expect(sizes!.after).toBeLessThan(sizes!.before * 0.5);
			expect(await Promise.all(during)).toEqual([{ _id: placed(1)._id, status: "shipped" }, { _id: placed(1)._id, status: "shipped" }, true, 1_998]);
			await orders.close();
			expect(readdirSync(dir).sort()).toEqual(["orders.sqlite"]);
			// What was written during the compaction is in the file that took the old one's place.
			const again = openSqliteCollection<Placed>("orders", dir, [{ fields: { status: 1 } }]);
			expect(await again.byId(placed(1)._id)).toEqual({ _id: placed(1)._id, status: "shipped" });
			expect(await again.byId(placed(2)._id)).toBeNull();
			expect(await again.count()).toBe(1_999);
			await again.close();
		});

		it("closing during a compaction lets the file go once the copy is in place, and the file opens again at once", async () => {
			const orders = await churned(1_000);
			const compacting = orders.compact(UNLIMITED);
			await orders.close();
			const again = openSqliteCollection<Placed>("orders", dir, [{ fields: { status: 1 } }]);
			expect(await compacting).not.toBeNull();
			expect(await again.count({ status: "paid" })).toBe(1_000);
			await again.close();
		});

		it("when something else takes the file during a compaction, says so, and the calls wait until the file is free again", async () => {
			const orders = await churned(1_000);
			const compacting = orders.compact(UNLIMITED);
			// Another connection takes the file (exclusively) while the collection has it closed: the copy and the reopen both fail.
			const other = new DatabaseSync(path.join(dir, "orders.sqlite"));
			other.exec("PRAGMA locking_mode = EXCLUSIVE");
			other.prepare("SELECT count(*) FROM docs").get();
			await expect(compacting).rejects.toThrow(/could not be opened again after its compaction/);
			const waiting = orders.count({ status: "paid" });
			other.close();
			expect(await waiting).toBe(1_000);
			await orders.close();
		});

		it("a copy a crash left behind is removed as the file opens, and the file is whole", async () => {
			const orders = await churned(1_000);
			orders.close();
			writeFileSync(path.join(dir, "orders.sqlite.compacting"), "half a copy");
			const again = openSqliteCollection<Placed>("orders", dir, [{ fields: { status: 1 } }]);
			expect(existsSync(path.join(dir, "orders.sqlite.compacting"))).toBe(false);
			expect(await again.count({ status: "paid" })).toBe(1_000);
			again.close();
		});

		it("answers a failed compaction's error, leaves the file as it was, and does not try again before the file took as many writes once more", async () => {
			const orders = await churned(1_000);
			// Something in the copy's place: SQLite refuses to write it, as a full disk would refuse the copy.
			writeFileSync(path.join(dir, "orders.sqlite.compacting"), "in the way");
			await expect(orders.compact(UNLIMITED)).rejects.toThrow(/file is not a database/);
			expect(existsSync(path.join(dir, "orders.sqlite.compacting"))).toBe(false);
			expect(await orders.count({ status: "paid" })).toBe(1_000);
			expect(await orders.compact(UNLIMITED)).toBeNull();
			await orders.insertMany(Array.from({ length: 1_000 }, (_, i) => placed(10_000 + i)));
			await orders.removeMany({ status: "pending" });
			expect(await orders.compact(UNLIMITED)).not.toBeNull();
			expect(existsSync(path.join(dir, "orders.sqlite-wal"))).toBe(false);
			expect(await orders.count()).toBe(1_000);
			orders.close();
		});

		it("commits the writes of the moment before it copies the file: none is lost", async () => {
			const orders = await churned(1_000);
			const late = orders.updateOne({ _id: placed(7)._id }, { $set: { status: "shipped" } });
			expect((await compactChurnedFiles(UNLIMITED)).map(file => file.name)).toEqual(["orders"]);
			expect(await late).toEqual({ _id: placed(7)._id, status: "shipped" });
			orders.close();
			const again = openSqliteCollection<Placed>("orders", dir);
			expect(await again.byId(placed(7)._id)).toEqual({ _id: placed(7)._id, status: "shipped" });
			expect(await again.count({ status: "paid" })).toBe(999);
			again.close();
			expect(await compactChurnedFiles(UNLIMITED)).toEqual([]);
		});
	});

	it("keeps an NeDB file it could not move in whole, to try again at the next start", () => {
		const filename = path.join(dir, "orders.db");
		writeFileSync(filename, ['{"_id":"a","total":1}', "not json", "{also not", '{"_id":"b","total":2}'].join("\n"));
		expect(() => openSqliteCollection("orders", dir)).toThrow(/2 of 4 lines are not documents/);
		expect(existsSync(filename)).toBe(true);

		const orders = new SqliteCollection<{ _id: string; total: number }>("orders", path.join(dir, "orders.sqlite"));
		(orders as unknown as { db: DatabaseSync }).db.exec("PRAGMA max_page_count = 2");
		writeFileSync(filename, Array.from({ length: 200 }, (_, i) => JSON.stringify({ _id: `o${i}`, total: i, text: "x".repeat(500) })).join("\n"));
		expect(() => orders.importNedbFile(filename)).toThrow(/full/);
		(orders as unknown as { db: DatabaseSync }).db.exec("PRAGMA max_page_count = 1000000");
		return orders.count().then(count => {
			orders.close();
			expect(count).toBe(0);
		});
	});

	it("skips the line of an append a crash cut off, as NeDB did", async () => {
		const lines = Array.from({ length: 20 }, (_, i) => JSON.stringify({ _id: `o${String(i).padStart(2, "0")}`, total: i }));
		writeFileSync(path.join(dir, "orders.db"), [...lines, '{"_id":"o20","tot'].join("\n"));
		const orders = openSqliteCollection<{ _id: string; total: number }>("orders", dir);
		expect(await orders.count()).toBe(20);
		expect(await orders.byId("o20")).toBeNull();
		orders.close();
	});

	it("keeps a legacy unique index only for a collection moved in from an NeDB file, where it still refuses a second key", async () => {
		type Order = { _id: string; scope: string };
		const guard: TableIndex[] = [{ fields: { scope: 1 }, unique: true, legacy: true }];
		const fresh = openSqliteCollection<Order>("orders", dir, guard);
		await fresh.insert({ _id: "a", scope: "u1:k1" });
		await fresh.insert({ _id: "b", scope: "u1:k1" });
		fresh.close();

		const movedDir = mkdtempSync(path.join(os.tmpdir(), "sqlite-collection-nedb-"));
		try {
			const old = new Datastore<Order>({ filename: path.join(movedDir, "orders.db") });
			await old.loadDatabaseAsync();
			await old.insertAsync({ _id: "random-id", scope: "u1:k1" });
			for (const round of ["moved in", "opened again"]) {
				const moved = openSqliteCollection<Order>("orders", movedDir, guard);
				const inserted = await moved.insertIfNew({ _id: `derived-${round}`, scope: "u1:k1" });
				expect({ round, inserted }).toEqual({ round, inserted: false });
				moved.close();
			}
		} finally {
			rmSync(movedDir, { recursive: true, force: true });
		}
	});

	it("moves in, once, the documents of the NeDB file an earlier version kept", async () => {
		const filename = path.join(dir, "orders.db");
		const old = new Datastore<{ _id: string; total: number; at?: Date }>({ filename });
		await old.loadDatabaseAsync();
		await old.insertAsync({ _id: "kept", total: 1, at: new Date(Date.UTC(2026, 0, 2)) });
		await old.insertAsync({ _id: "removed", total: 2 });
		await old.insertAsync({ _id: "changed", total: 3 });
		await old.updateAsync({ _id: "changed" }, { $set: { total: 30 } }, {});
		await old.removeAsync({ _id: "removed" }, {});
		await old.ensureIndexAsync({ fieldName: "total" });

		const orders = openSqliteCollection<{ _id: string; total: number; at?: Date }>("orders", dir);
		expect(await orders.find({}, { sort: { _id: 1 } })).toEqual([
			{ _id: "changed", total: 30 },
			{ _id: "kept", total: 1, at: new Date(Date.UTC(2026, 0, 2)) },
		]);
		await orders.updateOne({ _id: "kept" }, { $set: { total: 10 } });
		orders.close();
		expect(existsSync(filename)).toBe(false);
		expect(existsSync(`${filename}.imported`)).toBe(true);

		const reopened = openSqliteCollection<{ _id: string; total: number }>("orders", dir);
		expect((await reopened.byId("kept"))?.total).toBe(10);
		reopened.close();
	});
});
