/**
 * A collection of its own, next to a service's main one (mixins/db.mixin.ts): records that
 * are looked up by key and whose number is bounded by the work in flight, such as stock
 * holds, kept out of the documents that would otherwise grow with history. Every record's
 * key is its `_id`, so FerretDB finds it without a scan.
 *
 * The same store as the service's: MongoDB (mongoose, on the connection the service's
 * adapter opened) when MONGO_URI is set, SQLite otherwise (a file in DATA_DIR, or memory
 * under test: ./sqlite-collection.ts).
 */
import mongoose from "mongoose";
import { config } from "../config";
import { DuplicateKeyError, openSqliteCollection, type FindOptions, type Keyed } from "./sqlite-collection";

export type { FindOptions, Keyed };

export type CollectionSpec = {
	/** Collection name (and file name embedded); unique across the shop. */
	name: string;
	/**
	 * Indexes, for the few queries and sorts not by key (sweeps, the oldest first): a field, or
	 * fields in order (a compound index: an equality on the first, a sort on the next).
	 */
	indexes?: (string | readonly string[])[];
};

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
	/** Closes the embedded file (resolves once it is let go). */
	close(): Promise<void>;
}

/** True when a write failed on a unique index (MongoDB code 11000, the embedded store's DuplicateKeyError). */
export function isDuplicateKeyError(err: unknown): boolean {
	return err instanceof DuplicateKeyError || (err as { code?: number } | null)?.code === 11000;
}

/** Each index of `spec` as its fields in order, ascending. */
function indexFields(spec: CollectionSpec): Record<string, 1>[] {
	return (spec.indexes ?? []).map(index => Object.fromEntries((typeof index === "string" ? [index] : index).map(field => [field, 1 as const])));
}

function mongoCollection<T extends Keyed>(spec: CollectionSpec): Collection<T> {
	// The driver's collection on the connection the service's adapter opened: plain documents, no mongoose casting.
	type Doc = mongoose.mongo.Document;
	const collection = () => mongoose.connection.collection<Doc>(spec.name);
	const indexed = Promise.all(indexFields(spec).map(fields => mongoose.connection.asPromise().then(() => collection().createIndex(fields))));
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
		close: async () => undefined,
	};
}

/** Opens a collection on the shop's store (see the top of this file). */
export function openCollection<T extends Keyed>(spec: CollectionSpec): Collection<T> {
	const { mongoUri, dataDir } = config.storage;
	return mongoUri
		? mongoCollection<T>(spec)
		: openSqliteCollection<T>(
				spec.name,
				dataDir,
				indexFields(spec).map(fields => ({ fields })),
			);
}

/** A query part for "the array `field` does not contain `value`" (MongoDB and the embedded store spell it differently). */
export function lacks(field: string, value: string): object {
	// MongoDB: $ne on an array field means "no element equals"; the embedded store's matcher (NeDB's) reads it per element, but has $not.
	return config.storage.mongoUri ? { [field]: { $ne: value } } : { $not: { [field]: value } };
}
