/**
 * A collection of its own, next to a service's main one (mixins/db.mixin.ts): records that
 * are looked up by key and whose number is bounded by the work in flight, such as stock
 * holds, kept out of the documents that would otherwise grow with history. Every record's
 * key is its `_id`, so FerretDB finds it without a scan.
 *
 * The same store as the service's: MongoDB (mongoose, on the connection the service's
 * adapter opened) when MONGO_URI is set, NeDB otherwise (a file in DATA_DIR, compacted like
 * the others, or memory under test).
 */
import path from "node:path";
import Datastore from "@seald-io/nedb";
import mongoose from "mongoose";
import { config } from "../config";
import { compactInSlices, startAutocompaction } from "./nedb-compaction";
import { groupCommits } from "./nedb-group-commit";
import { useHashIndexes } from "./nedb-hash-index";
import { keepUnchangedIndexKeys } from "./nedb-index-updates";

export type Keyed = { _id: string };

export type CollectionSpec = {
	/** Collection name (and NeDB file name); unique across the shop. */
	name: string;
	/** Single-field indexes, for the few queries not by key (sweeps). */
	indexes?: string[];
	/**
	 * Fields that reads only sort by: indexed on MongoDB, which sorts from an index. NeDB
	 * sorts in memory and uses an index only to match, so there one would cost every write
	 * and serve no read.
	 */
	sortIndexes?: string[];
};

export type FindOptions = { limit?: number; skip?: number; sort?: Record<string, 1 | -1> };

export interface Collection<T extends Keyed> {
	byId(id: string): Promise<T | null>;
	find(query: object, options?: FindOptions): Promise<T[]>;
	/** Inserts `doc` unless one with its `_id` exists: false then, and nothing written. */
	insertIfNew(doc: T): Promise<boolean>;
	/** One atomic conditional update of the record `query._id`: the record right after, or null when it did not match. */
	updateOne(query: Keyed & Record<string, unknown>, update: object): Promise<T | null>;
	/** Removes the record `query._id` if it still matches `query`; true when it did. */
	removeOne(query: Keyed & Record<string, unknown>): Promise<boolean>;
	/** Removes every record that matches `query` (a sweep, such as a retention purge); answers how many. */
	removeMany(query: object): Promise<number>;
	count(query?: object): Promise<number>;
	/** Stops background work (NeDB's compaction) and closes the NeDB file, once what it owes is in it. */
	close(): void;
}

/** True when a write failed on a unique index (MongoDB code 11000, NeDB "uniqueViolated"). */
export function isDuplicateKeyError(err: unknown): boolean {
	const e = err as { code?: number; errorType?: string } | null;
	return e?.code === 11000 || e?.errorType === "uniqueViolated";
}

function nedbCollection<T extends Keyed>(spec: CollectionSpec, dataDir: string | null): Collection<T> {
	keepUnchangedIndexKeys();
	const db = new Datastore<T>(dataDir ? { filename: path.join(dataDir, `${spec.name}.db`), autoload: true } : {});
	useHashIndexes(db as Datastore<object>);
	compactInSlices(db);
	const stopCompaction = dataDir ? startAutocompaction(db, config.storage.compactIntervalMs) : () => undefined;
	const closeFile = groupCommits(db);
	const indexes = spec.indexes ?? [];
	for (const fieldName of indexes) void db.ensureIndexAsync({ fieldName });
	// The file keeps the indexes it was given: one that an earlier version declared goes once loaded.
	void db.autoloadPromise?.then(() => {
		const kept = Object.keys((db as unknown as { indexes: object }).indexes);
		return Promise.all(kept.filter(field => field !== "_id" && !indexes.includes(field)).map(field => db.removeIndexAsync(field)));
	});
	return {
		byId: id => db.findOneAsync({ _id: id } as object) as Promise<T | null>,
		async find(query, { limit, skip, sort } = {}) {
			let cursor = db.findAsync(query);
			if (sort) cursor = cursor.sort(sort);
			if (skip) cursor = cursor.skip(skip);
			if (limit) cursor = cursor.limit(limit);
			return (await cursor) as T[];
		},
		async insertIfNew(doc) {
			try {
				await db.insertAsync(doc);
				return true;
			} catch (err) {
				if (isDuplicateKeyError(err)) return false;
				throw err;
			}
		},
		async updateOne(query, update) {
			const { affectedDocuments } = await db.updateAsync(query, update, { returnUpdatedDocs: true, multi: false });
			return (affectedDocuments as T | null) ?? null;
		},
		async removeOne(query) {
			return (await db.removeAsync(query, { multi: false })) > 0;
		},
		removeMany: query => db.removeAsync(query, { multi: true }),
		count: (query = {}) => db.countAsync(query) as Promise<number>,
		close() {
			stopCompaction();
			closeFile();
		},
	};
}

function mongoCollection<T extends Keyed>(spec: CollectionSpec): Collection<T> {
	// The driver's collection on the connection the service's adapter opened: plain documents, no mongoose casting.
	type Doc = mongoose.mongo.Document;
	const collection = () => mongoose.connection.collection<Doc>(spec.name);
	const indexed = Promise.all(
		[...(spec.indexes ?? []), ...(spec.sortIndexes ?? [])].map(field => mongoose.connection.asPromise().then(() => collection().createIndex({ [field]: 1 }))),
	);
	indexed.catch(() => undefined);
	return {
		byId: async id => (await collection().findOne({ _id: id } as Doc)) as T | null,
		async find(query, { limit, skip, sort } = {}) {
			const cursor = collection().find(query);
			if (sort) cursor.sort(sort);
			if (skip) cursor.skip(skip);
			if (limit) cursor.limit(limit);
			return (await cursor.toArray()) as unknown as T[];
		},
		async insertIfNew(doc) {
			try {
				await collection().insertOne(doc as Doc);
				return true;
			} catch (err) {
				if (isDuplicateKeyError(err)) return false;
				throw err;
			}
		},
		updateOne: async (query, update) => (await collection().findOneAndUpdate(query as Doc, update, { returnDocument: "after" })) as T | null,
		removeOne: async query => (await collection().findOneAndDelete(query as Doc)) !== null,
		removeMany: async query => (await collection().deleteMany(query)).deletedCount,
		count: (query = {}) => collection().countDocuments(query),
		close: () => undefined,
	};
}

/** Opens a collection on the shop's store (see the top of this file). */
export function openCollection<T extends Keyed>(spec: CollectionSpec): Collection<T> {
	const { mongoUri, dataDir } = config.storage;
	return mongoUri ? mongoCollection<T>(spec) : nedbCollection<T>(spec, dataDir);
}

/** A query part for "the array `field` does not contain `value`" (MongoDB and NeDB spell it differently). */
export function lacks(field: string, value: string): object {
	// MongoDB: $ne on an array field means "no element equals"; NeDB reads it per element, but has $not.
	return config.storage.mongoUri ? { [field]: { $ne: value } } : { $not: { [field]: value } };
}
