/**
 * A moleculer-db adapter over a SQLite collection (./sqlite-collection.ts): the embedded
 * store of a service's main collection, in place of moleculer-db's in-memory NeDB adapter,
 * with the same methods, so that moleculer-db's own methods work on it as on any adapter.
 */
import type { ServiceBroker, Service } from "moleculer";
import { openSqliteCollection, type Keyed, type SqliteCollection, type Sort, type TableIndex } from "./sqlite-collection";

/** moleculer-db's find filters (the subset the shop uses: no full-text `search`). */
export type AdapterFilters = { query?: object; sort?: string | string[]; limit?: number; offset?: number };

/** moleculer-db's sort (`["-createdAt", "name"]` or `"-createdAt name"`) as a sort object. */
export function sortOf(sort: string | string[] | undefined): Sort | undefined {
	if (!sort) return undefined;
	const fields = typeof sort === "string" ? sort.split(/\s+/).filter(Boolean) : sort;
	return Object.fromEntries(fields.map(field => (field.startsWith("-") ? [field.slice(1), -1] : [field, 1])));
}

type Entity = Keyed & Record<string, unknown>;

export class SqliteAdapter {
	/** The open collection, from connect() to disconnect(). */
	collection!: SqliteCollection<Entity>;

	constructor(private readonly options: { name: string; dataDir: string | null; indexes: TableIndex[] }) {}

	init(_broker: ServiceBroker, _service: Service): void {}

	async connect(): Promise<void> {
		// moleculer-db connects again after a failed start: the file this process holds already is let go first.
		await this.collection?.close();
		this.collection = openSqliteCollection<Entity>(this.options.name, this.options.dataDir, this.options.indexes);
	}

	async disconnect(): Promise<void> {
		await this.collection?.close();
	}

	find(filters: AdapterFilters = {}) {
		return this.collection.find(filters.query ?? {}, { sort: sortOf(filters.sort), limit: filters.limit, skip: filters.offset });
	}

	findOne(query: object) {
		return this.collection.findOne(query);
	}

	findById(id: string) {
		return this.collection.byId(id);
	}

	findByIds(ids: string[]) {
		return this.collection.find({ _id: { $in: ids } });
	}

	count(filters: AdapterFilters = {}) {
		return this.collection.count(filters.query ?? {});
	}

	insert(entity: object) {
		return this.collection.insert(entity);
	}

	insertMany(entities: object[]) {
		return this.collection.insertMany(entities);
	}

	updateMany(query: object, update: object) {
		return this.collection.updateMany(query, update);
	}

	updateById(id: string, update: object) {
		return this.collection.updateOne({ _id: id }, update);
	}

	removeMany(query: object) {
		return this.collection.removeMany(query);
	}

	async removeById(id: string) {
		const doc = await this.collection.byId(id);
		return doc && (await this.collection.removeOne({ _id: id })) ? doc : null;
	}

	clear() {
		return this.collection.removeMany({});
	}

	entityToObject(entity: object) {
		return entity;
	}

	beforeSaveTransformID(entity: Record<string, unknown>, idField: string) {
		if (idField === "_id" || entity[idField] === undefined) return { ...entity };
		const { [idField]: id, ...rest } = entity;
		return { ...rest, _id: id };
	}

	afterRetrieveTransformID(entity: Record<string, unknown>, idField: string) {
		if (idField === "_id") return entity;
		const { _id, ...rest } = entity;
		return { ...rest, [idField]: _id };
	}
}
