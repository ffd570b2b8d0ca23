import Datastore from "@seald-io/nedb";
import { keepUnchangedIndexKeys } from "../../src/storage/nedb-index-updates";

type Doc = { _id: string; email: string; userId: string; status: string; owed?: number };

describe("NeDB index updates with unchanged keys", () => {
	let db: Datastore<Doc>;

	beforeAll(() => keepUnchangedIndexKeys());

	beforeEach(async () => {
		db = new Datastore<Doc>();
		await db.ensureIndexAsync({ fieldName: "email", unique: true });
		await db.ensureIndexAsync({ fieldName: "userId" });
		await db.ensureIndexAsync({ fieldName: "owed", sparse: true });
		await db.insertAsync([
			{ _id: "a", email: "a@x", userId: "u1", status: "new" },
			{ _id: "b", email: "b@x", userId: "u1", status: "new", owed: 1 },
			{ _id: "c", email: "c@x", userId: "u2", status: "new" },
		]);
	});

	/** What every index finds for each document now, as a query by the indexed field sees it. */
	const byIndexes = async (doc: Doc) => [
		await db.findOneAsync({ _id: doc._id }),
		await db.findOneAsync({ email: doc.email }),
		(await db.findAsync({ userId: doc.userId })).find(d => d._id === doc._id),
	];

	it("finds the updated document, not the old one, through every index", async () => {
		await db.updateAsync({ _id: "a" }, { $set: { status: "paid" } });
		for (const found of await byIndexes({ _id: "a", email: "a@x", userId: "u1", status: "paid" })) expect(found?.status).toBe("paid");
		expect((await db.findAsync({ userId: "u1" })).map(d => d._id).sort()).toEqual(["a", "b"]);
	});

	it("moves a document whose key changed, and keeps the others where they were", async () => {
		await db.updateAsync({ _id: "b" }, { $set: { userId: "u2", status: "moved" }, $unset: { owed: true } });
		expect((await db.findAsync({ userId: "u1" })).map(d => d._id)).toEqual(["a"]);
		expect((await db.findAsync({ userId: "u2" })).map(d => d._id).sort()).toEqual(["b", "c"]);
		expect(await db.findAsync({ owed: { $exists: true } })).toEqual([]);
		expect((await db.findOneAsync({ email: "b@x" }))?.status).toBe("moved");
	});

	it("leaves every index as it was when an update breaks a unique key", async () => {
		// a keeps its email (swapped in place), b would take it (moved, and refused).
		await expect(db.updateAsync({ userId: "u1" }, { $set: { email: "a@x", status: "broken" } }, { multi: true })).rejects.toMatchObject({
			errorType: "uniqueViolated",
		});
		for (const doc of [
			{ _id: "a", email: "a@x", userId: "u1", status: "new" },
			{ _id: "b", email: "b@x", userId: "u1", status: "new" },
		])
			for (const found of await byIndexes(doc)) expect(found?.status).toBe("new");
		expect((await db.findOneAsync({ email: "c@x" }))?._id).toBe("c");
		// A later update of the same documents works on the index as it was.
		await db.updateAsync({ _id: "a" }, { $set: { status: "paid" } });
		expect((await db.findOneAsync({ email: "a@x" }))?.status).toBe("paid");
	});
});
