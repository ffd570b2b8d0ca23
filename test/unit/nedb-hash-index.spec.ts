import Datastore from "@seald-io/nedb";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { HashIndex, useHashIndexes } from "../../src/storage/nedb-hash-index";
import { keepUnchangedIndexKeys } from "../../src/storage/nedb-index-updates";

type Doc = { _id: string; email: string; userId: string; status: string; coupon?: string };

const indexOf = (db: Datastore<Doc>, field: string) => (db as unknown as { indexes: Record<string, object> }).indexes[field];

describe("NeDB unique indexes in a Map", () => {
	let db: Datastore<Doc>;

	beforeAll(() => keepUnchangedIndexKeys());

	beforeEach(async () => {
		db = new Datastore<Doc>();
		useHashIndexes(db as Datastore<object>);
		await db.ensureIndexAsync({ fieldName: "email", unique: true });
		await db.ensureIndexAsync({ fieldName: "coupon", unique: true, sparse: true });
		await db.ensureIndexAsync({ fieldName: "userId" });
		await db.insertAsync([
			{ _id: "c", email: "c@x", userId: "u1", status: "new" },
			{ _id: "a", email: "a@x", userId: "u1", status: "new", coupon: "SPRING" },
			{ _id: "b", email: "b@x", userId: "u2", status: "new" },
		]);
	});

	it("keeps _id and the unique indexes in Maps, the others in NeDB's trees", () => {
		expect(indexOf(db, "_id")).toBeInstanceOf(HashIndex);
		expect(indexOf(db, "email")).toBeInstanceOf(HashIndex);
		expect(indexOf(db, "coupon")).toBeInstanceOf(HashIndex);
		expect(indexOf(db, "userId")).not.toBeInstanceOf(HashIndex);
	});

	it("finds documents by _id, by a unique key, by several ids, and nothing for a missing key", async () => {
		expect((await db.findOneAsync({ _id: "a" }))?.email).toBe("a@x");
		expect((await db.findOneAsync({ email: "b@x" }))?._id).toBe("b");
		expect((await db.findAsync({ _id: { $in: ["a", "b", "a", "zz"] } })).map(d => d._id).sort()).toEqual(["a", "b"]);
		expect(await db.findOneAsync({ _id: "zz" })).toBeNull();
		expect(await db.findOneAsync({ email: "zz@x" })).toBeNull();
	});

	it("refuses a taken key as NeDB does, and a batch with one inserts none of it", async () => {
		await expect(db.insertAsync({ _id: "a", email: "new@x", userId: "u3", status: "new" })).rejects.toMatchObject({ errorType: "uniqueViolated" });
		await expect(
			db.insertAsync([
				{ _id: "d", email: "d@x", userId: "u3", status: "new" },
				{ _id: "e", email: "a@x", userId: "u3", status: "new" },
			]),
		).rejects.toMatchObject({ errorType: "uniqueViolated", key: "a@x" });
		expect(await db.countAsync({})).toBe(3);
		expect(await db.findOneAsync({ _id: "d" })).toBeNull();
		expect(await db.findOneAsync({ email: "d@x" })).toBeNull();
	});

	it("holds any number of documents without a sparse key, and each key once", async () => {
		await db.insertAsync({ _id: "d", email: "d@x", userId: "u3", status: "new" });
		await expect(db.insertAsync({ _id: "e", email: "e@x", userId: "u3", status: "new", coupon: "SPRING" })).rejects.toMatchObject({
			errorType: "uniqueViolated",
		});
		expect((await db.findAsync({ coupon: "SPRING" })).map(d => d._id)).toEqual(["a"]);
	});

	it("gives a key back when its document goes or moves to another key", async () => {
		await db.removeAsync({ _id: "a" }, {});
		await db.updateAsync({ _id: "b" }, { $set: { email: "b2@x" } });
		await db.insertAsync({ _id: "a", email: "b@x", userId: "u3", status: "again", coupon: "SPRING" });
		expect((await db.findOneAsync({ email: "b@x" }))?.status).toBe("again");
		expect((await db.findOneAsync({ email: "b2@x" }))?._id).toBe("b");
		expect((await db.findOneAsync({ coupon: "SPRING" }))?._id).toBe("a");
	});

	it("leaves every index as it was when an update breaks a unique key", async () => {
		// a and c would both take b's email: refused; _id, which took the new documents in place, takes the old ones back.
		await expect(db.updateAsync({ userId: "u1" }, { $set: { email: "b@x", status: "broken" } }, { multi: true })).rejects.toMatchObject({
			errorType: "uniqueViolated",
		});
		for (const [id, email] of [
			["a", "a@x"],
			["b", "b@x"],
			["c", "c@x"],
		]) {
			expect((await db.findOneAsync({ _id: id }))?.email).toBe(email);
			expect((await db.findOneAsync({ email }))?._id).toBe(id);
			expect((await db.findOneAsync({ _id: id }))?.status).toBe("new");
		}
	});

	it("answers a range of ids in id order, as a page after a given id", async () => {
		expect((await db.findAsync({ _id: { $gt: "a" } })).map(d => d._id)).toEqual(["b", "c"]);
		expect(
			(
				await db
					.findAsync({ _id: { $gte: "a", $lt: "c" } })
					.sort({ _id: 1 })
					.limit(1)
			).map(d => d._id),
		).toEqual(["a"]);
	});

	it("scans in the order documents were inserted, an updated one keeping its place", async () => {
		await db.updateAsync({ _id: "c" }, { $set: { status: "paid" } });
		expect((await db.findAsync({ status: { $in: ["new", "paid"] } })).map(d => d._id)).toEqual(["c", "a", "b"]);
	});

	describe("with a file", () => {
		let dir: string;
		beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), "hash-index-"))));
		afterEach(() => rmSync(dir, { recursive: true, force: true }));

		const open = async () => {
			const stored = new Datastore<Doc>({ filename: path.join(dir, "users.db"), autoload: true });
			useHashIndexes(stored as Datastore<object>);
			await stored.autoloadPromise;
			await stored.ensureIndexAsync({ fieldName: "email", unique: true });
			return stored;
		};

		it("loads every document into its Maps on a restart, and still refuses a taken key", async () => {
			const first = await open();
			await first.insertAsync([
				{ _id: "a", email: "a@x", userId: "u1", status: "new" },
				{ _id: "b", email: "b@x", userId: "u1", status: "new" },
			]);
			await first.updateAsync({ _id: "a" }, { $set: { status: "paid" } });

			// The file names the unique index: NeDB builds it as a tree when it loads, the Map takes it over.
			const again = await open();
			expect(indexOf(again, "_id")).toBeInstanceOf(HashIndex);
			expect(indexOf(again, "email")).toBeInstanceOf(HashIndex);
			expect((await again.findOneAsync({ email: "a@x" }))?.status).toBe("paid");
			expect((await again.findOneAsync({ _id: "b" }))?.email).toBe("b@x");
			await expect(again.insertAsync({ _id: "c", email: "b@x", userId: "u2", status: "new" })).rejects.toMatchObject({ errorType: "uniqueViolated" });
			await expect(again.insertAsync({ _id: "a", email: "c@x", userId: "u2", status: "new" })).rejects.toMatchObject({ errorType: "uniqueViolated" });
		});
	});
});
