/**
 * NeDB's unique indexes (`_id`, and the unique ones a service declares) kept in a Map.
 *
 * NeDB keeps every index in a balanced tree, so that it can answer ranges; a unique index
 * is almost only asked "is this key taken?" and "which document has it?". In a tree that
 * costs a walk of some twenty nodes spread over the heap for every insert and every lookup
 * by key: in the embedded shop, 15 to 25 us each once a collection holds a few ten thousand
 * documents, the largest single cost of an order. A Map answers both in well under a
 * microsecond at any size.
 *
 * Ranges (`{ _id: { $gt: ... } }`) still work: they filter and sort every key, so they cost
 * as much as the collection is large. A query that no index serves gets the documents in the
 * order they were inserted (MongoDB's natural order) instead of in `_id` order; neither
 * order is promised without a sort.
 *
 * Keys are strings, numbers, booleans or null, as the shop's are; a date, an array or an
 * object as a key is refused, as a bug.
 */
import type Datastore from "@seald-io/nedb";

type Doc = Record<string, unknown>;
type Pair = { oldDoc: Doc; newDoc: Doc };
type Bounds = { $gt?: unknown; $gte?: unknown; $lt?: unknown; $lte?: unknown };

/** The members of an NeDB datastore this module uses, its indexes among them. */
type Internals = {
	indexes: Record<string, { unique?: boolean; sparse?: boolean; fieldName: string; getAll(): Doc[] }>;
	getAllData(): Doc[];
	ensureIndexAsync(options: IndexOptions): Promise<void>;
};
type IndexOptions = { fieldName: string; unique?: boolean; sparse?: boolean };

/* eslint-disable @typescript-eslint/no-require-imports -- NeDB's internals have no typings */
const model = require("@seald-io/nedb/lib/model.js") as {
	getDotValue(doc: Doc, field: string): unknown;
	compareThings(a: unknown, b: unknown): number;
};
/* eslint-enable @typescript-eslint/no-require-imports */

type Key = string | number | boolean | null;

/** The error NeDB's own unique index throws, so that callers tell a duplicate the same way. */
function uniqueViolated(key: Key): Error {
	return Object.assign(new Error(`Can't insert key ${JSON.stringify(key)}, it violates the unique constraint`), { key, errorType: "uniqueViolated" });
}

/** What `keyOf` answers for a document a sparse index does not hold. */
const LEFT_OUT = Symbol("left out");

export class HashIndex {
	readonly unique = true;
	private docs = new Map<Key | undefined, Doc>();
	private readonly dotted: boolean;

	constructor(
		readonly fieldName: string,
		readonly sparse = false,
	) {
		this.dotted = fieldName.includes(".");
	}

	/** The document's key (`undefined` when it has none); LEFT_OUT when a sparse index leaves the document out. */
	private keyOf(doc: Doc): Key | undefined | typeof LEFT_OUT {
		const key = this.dotted ? model.getDotValue(doc, this.fieldName) : doc[this.fieldName];
		if (key === undefined && this.sparse) return LEFT_OUT;
		const kind = typeof key;
		if (key === undefined || key === null || kind === "string" || kind === "number" || kind === "boolean") return key as Key | undefined;
		throw new TypeError(`${this.fieldName}: a unique index here takes a string, a number, a boolean or null as a key, not ${JSON.stringify(key)}`);
	}

	reset(newData?: Doc | Doc[]): void {
		this.docs = new Map();
		if (newData) this.insert(newData);
	}

	/** Adds one document, or all of several (or none, should one of their keys be taken). */
	insert(doc: Doc | Doc[]): void {
		if (!Array.isArray(doc)) return this.insertOne(doc);
		const added: Doc[] = [];
		try {
			for (const one of doc) {
				this.insertOne(one);
				added.push(one);
			}
		} catch (err) {
			for (const one of added) this.remove(one);
			throw err;
		}
	}

	private insertOne(doc: Doc): void {
		const key = this.keyOf(doc);
		if (key === LEFT_OUT) return;
		if (this.docs.has(key)) throw uniqueViolated(key as Key);
		this.docs.set(key, doc);
	}

	remove(doc: Doc | Doc[]): void {
		for (const one of Array.isArray(doc) ? doc : [doc]) {
			const key = this.keyOf(one);
			if (key !== LEFT_OUT) this.docs.delete(key);
		}
	}

	/**
	 * Replaces documents by their new versions, all or none: a document whose key is the same
	 * keeps its place (an `_id` never changes); one whose key changed moves, unless its new key
	 * is taken.
	 */
	update(oldDoc: Doc | Pair[], newDoc?: Doc): void {
		const pairs = Array.isArray(oldDoc) ? oldDoc : [{ oldDoc, newDoc: newDoc! }];
		const moved = pairs.filter(({ oldDoc: before, newDoc: after }) => {
			const key = this.keyOf(before);
			if (key === LEFT_OUT || key !== this.keyOf(after) || this.docs.get(key) !== before) return true;
			this.docs.set(key, after);
			return false;
		});
		if (moved.length === 0) return;
		this.remove(moved.map(pair => pair.oldDoc));
		try {
			this.insert(moved.map(pair => pair.newDoc));
		} catch (err) {
			this.insert(moved.map(pair => pair.oldDoc));
			for (const pair of pairs) if (!moved.includes(pair)) this.docs.set(this.keyOf(pair.oldDoc) as Key | undefined, pair.oldDoc);
			throw err;
		}
	}

	revertUpdate(oldDoc: Doc | Pair[], newDoc?: Doc): void {
		if (Array.isArray(oldDoc)) this.update(oldDoc.map(pair => ({ oldDoc: pair.newDoc, newDoc: pair.oldDoc })));
		else this.update(newDoc!, oldDoc);
	}

	/** The documents whose key is `value`, or one of the values of an array. */
	getMatching(value: unknown): Doc[] {
		const values = Array.isArray(value) ? [...new Set(value)] : [value];
		const found: Doc[] = [];
		for (const one of values) {
			const doc = this.docs.get(one as Key);
			if (doc) found.push(doc);
		}
		return found;
	}

	/** The documents whose key is within the bounds, sorted by key: a look at every key. */
	getBetweenBounds(query: Bounds): Doc[] {
		const within = (key: unknown) =>
			(!("$gt" in query) || model.compareThings(key, query.$gt) > 0) &&
			(!("$gte" in query) || model.compareThings(key, query.$gte) >= 0) &&
			(!("$lt" in query) || model.compareThings(key, query.$lt) < 0) &&
			(!("$lte" in query) || model.compareThings(key, query.$lte) <= 0);
		return [...this.docs]
			.filter(([key]) => within(key))
			.sort(([a], [b]) => model.compareThings(a, b))
			.map(([, doc]) => doc);
	}

	/** Every document, in the order they were inserted. */
	getAll(): Doc[] {
		return [...this.docs.values()];
	}
}

/**
 * Keeps the datastore's unique indexes in Maps from now on: `_id` and those it has now
 * (read from its file) at once, and any it is asked for later. Call it once the datastore
 * exists; the documents it already holds move into the new indexes.
 */
export function useHashIndexes(datastore: Datastore<object>): void {
	const db = datastore as unknown as Internals;
	const toHash = (fieldName: string) => {
		const current = db.indexes[fieldName];
		if (!current?.unique || current instanceof HashIndex) return;
		const index = new HashIndex(fieldName, current.sparse);
		index.insert(db.getAllData());
		db.indexes[fieldName] = index;
	};
	for (const fieldName of Object.keys(db.indexes)) toHash(fieldName);

	const ensureIndex = db.ensureIndexAsync.bind(db);
	db.ensureIndexAsync = async (options: IndexOptions) => {
		await ensureIndex(options);
		// NeDB built (or had) it as a tree; the documents are the same, the Map takes them over.
		if (options.unique) toHash(options.fieldName);
	};
}
