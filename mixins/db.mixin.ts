/**
 * Data access for a service: moleculer-db over MongoDB (mongoose) when MONGO_URI is set,
 * over SQLite otherwise (a file in DATA_DIR, or memory under test: src/storage/sqlite-adapter.ts).
 * The service sees the same adapter methods either way.
 *
 * moleculer-db's generic CRUD actions are removed: each service publishes its own
 * actions with their own validation and authorization, and keeps the adapter methods.
 */
import { Cachers, type Context, type ServiceBroker, type ServiceSchema } from "moleculer";
import DbService, { type DbAdapter } from "moleculer-db";
import MongooseAdapter from "moleculer-db-adapter-mongoose";
import mongoose, { type SchemaDefinition } from "mongoose";
import { config } from "../src/config";
import { owingExcept, type OutboxStore } from "../src/durable-events/outbox";
import { pageWindow, toPage, type Page, type PageRequest } from "../src/pagination";
import { cacheOptionsOf } from "../src/cache/cache-setting";
import { answersCleaned, type CacheCleanPayload } from "../src/cache/clean-broadcast";
import { NearCacher } from "../src/cache/near-cacher";
import { isDuplicateKeyError, lacks } from "../src/storage/collection";
import { SqliteAdapter } from "../src/storage/sqlite-adapter";
import type { TableIndex } from "../src/storage/sqlite-collection";

/** An index, on MongoDB and embedded alike (`sparse`: only documents that have the field, a field present only while some work is owed). */
export type IndexSpec = TableIndex;

export type DbMixinOptions = {
	/** Collection name; also the service name, which the cache keys start with. */
	collection: string;
	/** Mongoose field definitions (types, required, defaults). */
	fields: SchemaDefinition;
	indexes?: IndexSpec[];
	/**
	 * The service caches action answers: every change then drops them on every node.
	 * Without cached actions a change cleans nothing (no broadcast, no Redis scan).
	 */
	cached?: boolean;
	/**
	 * A change of known entities cleans only the answers that can hold them (cleanTargets):
	 * for a service whose cached actions are all declared (`cache` on the action) and that
	 * puts nothing into the cache by hand. Otherwise every change cleans every answer of the
	 * service.
	 */
	cleanByEntity?: boolean;
	/**
	 * The documents carry an outbox: the events their writes owe, recorded in the same
	 * write (src/durable-events/outbox.ts), published by the durable-events mixin's relay.
	 */
	outbox?: boolean;
	/**
	 * The service chooses its entities' ids (any non-empty string), so that what it looks up
	 * by key it finds by `_id`: FerretDB scans a collection for any other field.
	 */
	stringIds?: boolean;
};

export type FindFilters = { query?: object; sort?: string[]; limit?: number; offset?: number };

/** The data methods a service gets from this mixin; entities come back as plain objects with a string `_id`. */
export interface DbMethods {
	/** False for an id the store cannot hold (not an ObjectId on MongoDB): such an id finds nothing. */
	isValidId(id: string): boolean;
	/** A new id that both stores accept, for an entity whose events must name it before it is inserted. */
	newId(): string;
	findEntity<T = Entity>(query: object): Promise<T | null>;
	findEntityById<T = Entity>(id: string): Promise<T | null>;
	findEntities<T = Entity>(filters: FindFilters): Promise<T[]>;
	countEntities(query?: object): Promise<number>;
	insertEntity<T = Entity>(entity: object): Promise<T>;
	/** Inserts unless a unique index already holds such an entity: then null, and nothing written. */
	insertEntityIfNew<T = Entity>(entity: object): Promise<T | null>;
	/** One page of the entities that match `query`, in `sort` order, with the total count. */
	findPage<T = Entity>(query: object, sort: string[], request: PageRequest): Promise<Page<T>>;
	updateEntityById<T = Entity>(id: string, update: object): Promise<T | null>;
	updateEntities(query: object, update: object): Promise<number>;
	/**
	 * One atomic conditional update of the entity `query._id`, if it still matches `query`:
	 * answers it as it is right after, or null when it did not match (and nothing changed).
	 */
	updateEntityIf<T = Entity>(query: { _id: string } & Record<string, unknown>, update: object): Promise<T | null>;
	/**
	 * Like updateEntityIf, for a change of fields that no answer of the service shows
	 * (bookkeeping, such as a product's stock marks): no cached answer is cleaned. True when it applied.
	 */
	updateUnseenFields(query: { _id: string } & Record<string, unknown>, update: object): Promise<boolean>;
	/** Removes the entities that match `query`; answers how many. */
	removeEntities(query: object): Promise<number>;
	/** A query part for "the array `field` does not contain `value`" (MongoDB and the embedded store spell it differently). */
	lacks(field: string, value: string): object;
}

export type Entity = { _id: string } & Record<string, unknown>;

type DbThis = DbMethods & {
	updateOne(query: { _id: string }, update: object, clean?: boolean): Promise<unknown>;
	adapter: DbAdapter;
	/** Cleans the cached answers that can hold the entities `ids`, or every answer of the service without ids. */
	clearCache(ids?: string[]): Promise<void>;
	toPlain(doc: unknown): Promise<Entity | null>;
};

/** What the clean of a cached service's answers uses. */
type CacheCleaning = {
	broker: ServiceBroker;
	fullName: string;
	schema: { actions?: Record<string, unknown> };
	logger: { info(...args: unknown[]): void; warn(...args: unknown[]): void };
	/** The next try of a clean that Redis refused, while one is pending. */
	cacheCleanRetry?: NodeJS.Timeout;
	retryCacheClean(delayMs: number): void;
};

/** How long a refused clean of the shared cache waits before its next try, doubling up to the cap. */
const CLEAN_RETRY_FIRST_MS = 1_000;
const CLEAN_RETRY_MAX_MS = 30_000;

/**
 * What a change of the entities `ids` cleans: the answers of the service's actions cached by
 * `id` alone (such an action answers about that one entity: `catalog.get`) for those ids,
 * and every answer of its other cached actions (a list, a search, the caller's account). A
 * stock change then keeps every other product's cached answer.
 */
function cleanTargets(service: CacheCleaning, ids: string[]): { keys: string[]; patterns: string[] } {
	const keys: string[] = [];
	const patterns: string[] = [];
	for (const [name, action] of Object.entries(service.schema.actions ?? {})) {
		const cache = cacheOptionsOf(action);
		if (!cache) continue;
		const fullName = `${service.fullName}.${name}`;
		if (cache.keys?.length === 1 && cache.keys[0] === "id" && service.broker.cacher) {
			const cacher = service.broker.cacher;
			// (Moleculer takes the action here, as its own middleware passes it; its typings say a name.)
			for (const id of ids) keys.push(cacher.getCacheKey({ name: fullName } as unknown as string, cache, { params: { id }, meta: {} } as Context));
		} else patterns.push(`${fullName}**`);
	}
	return { keys, patterns };
}

/** A mongoose query asked for plain objects (`lean`): no document to build for each result. */
type LeanQuery = { lean(): { exec(): Promise<unknown> } };
type LeanModel = {
	findById(id: string): LeanQuery;
	findOne(query: object): LeanQuery;
	findOneAndUpdate(query: object, update: object, options: object): LeanQuery;
};
const mongoModel = (adapter: DbAdapter) => (adapter as unknown as { model: LeanModel }).model;
const mongoCursor = (adapter: DbAdapter, filters: FindFilters) => (adapter as unknown as { createCursor(f: FindFilters): LeanQuery }).createCursor(filters);

/** The embedded store's collection under the adapter. */
const sqlite = (adapter: DbAdapter) => (adapter as unknown as SqliteAdapter).collection;

let standInChecked = false;

/**
 * FerretDB answers the MongoDB protocol, but 1.x lacks transactions and isolation between
 * concurrent updates: the cluster tests use it as a stand-in, nothing should run on it.
 * Said once per process, when the server reports it in buildInfo.
 */
async function warnIfStandIn(adapter: DbAdapter, logger: { warn(...args: unknown[]): void }): Promise<void> {
	if (standInChecked) return;
	standInChecked = true;
	const db = (adapter as unknown as { db?: { admin(): { command(c: object): Promise<Record<string, unknown>> } } }).db;
	const info = await db
		?.admin()
		.command({ buildInfo: 1 })
		.catch(() => null);
	if (info && Object.keys(info).some(key => key.toLowerCase().startsWith("ferretdb"))) {
		logger.warn(
			`MONGO_URI points at FerretDB ${String(info.ferretdbVersion ?? "")}: a test stand-in for MongoDB, not for production (no transactions, concurrent updates not isolated)`,
		);
	}
}

const GENERIC_ACTIONS = ["find", "count", "list", "create", "insert", "get", "update", "remove"] as const;

/** The fields and index of an outbox, for DbMixin `outbox: true`. */
const OUTBOX_FIELDS: SchemaDefinition = { outbox: { type: Object, default: undefined }, outboxSize: { type: Number, default: undefined } };
const OUTBOX_INDEX: IndexSpec = { fields: { outboxSize: 1 }, sparse: true };

function mongooseModel(options: DbMixinOptions): mongoose.Model<unknown> {
	const fields = options.stringIds ? { _id: { type: String }, ...options.fields } : options.fields;
	const schema = new mongoose.Schema(fields, { versionKey: false });
	for (const index of options.indexes ?? []) schema.index(index.fields, { unique: index.unique ?? false, sparse: index.sparse ?? false });
	return mongoose.models[options.collection] ?? mongoose.model(options.collection, schema, options.collection);
}

export function DbMixin(given: DbMixinOptions): Partial<ServiceSchema> {
	const options: DbMixinOptions = given.outbox
		? { ...given, fields: { ...given.fields, ...OUTBOX_FIELDS }, indexes: [...(given.indexes ?? []), OUTBOX_INDEX] }
		: given;
	const { mongoUri, dataDir } = config.storage;
	const storage = mongoUri
		? { adapter: new MongooseAdapter(mongoUri), model: mongooseModel(options) }
		: { adapter: new SqliteAdapter({ name: options.collection, dataDir, indexes: options.indexes ?? [] }) };

	return {
		mixins: [DbService],
		...storage,

		actions: Object.fromEntries(GENERIC_ACTIONS.map(name => [name, false])),

		events: options.cached
			? {
					// clearCache (below) broadcasts this when an entity changes, so that every node
					// drops its cached answers; a shared Redis cache was cleaned by the writer already,
					// and only what a node keeps near, in front of it, is left to clean.
					async [`cache.clean.${options.collection}`](this: { broker: ServiceBroker }, ctx: Context<CacheCleanPayload | undefined>) {
						const { cacher } = this.broker;
						const match = answersCleaned(ctx.params, options.collection);
						if (cacher instanceof NearCacher) cacher.cleanLocal(match);
						else if (cacher && !(cacher instanceof Cachers.Redis)) await cacher.clean(match);
					},
				}
			: {},

		methods: {
			// moleculer-db's own clearCache tells the other nodes first and cleans Redis after: a
			// node that emptied its near cache meanwhile could read the old answer from Redis
			// again and keep it. So the shared cache is clean before anyone is told.
			// The change is made by then: a clean that Redis refuses does not fail it, and is
			// tried again until it gets through (or the answers' CACHE_TTL_SECONDS ends them).
			// With cleanByEntity, a change of known entities cleans only what can hold them.
			clearCache: options.cached
				? async function clearCache(this: CacheCleaning, ids?: string[]) {
						const { keys, patterns } = ids && options.cleanByEntity ? cleanTargets(this, ids) : { keys: [], patterns: [`${options.collection}.**`] };
						try {
							if (keys.length > 0) await this.broker.cacher?.del(keys);
							if (patterns.length > 0) await this.broker.cacher?.clean(patterns);
						} catch (err) {
							this.logger.warn(`The shared cache of ${options.collection} could not be cleaned after a change; trying again:`, err);
							this.retryCacheClean(CLEAN_RETRY_FIRST_MS);
						} finally {
							// Told also when Redis failed: each node can still empty its own memory.
							const payload: CacheCleanPayload = { match: [...keys, ...patterns] };
							this.broker.broadcast(`cache.clean.${options.collection}`, payload);
						}
					}
				: () => Promise.resolve(),

			...(options.cached
				? {
						/** One pending retry at a time: it cleans for every change made before it runs. */
						retryCacheClean(this: CacheCleaning, delayMs: number) {
							if (this.cacheCleanRetry) return;
							this.cacheCleanRetry = setTimeout(async () => {
								try {
									await this.broker.cacher?.clean(`${options.collection}.**`);
									this.cacheCleanRetry = undefined;
									this.logger.info(`The shared cache of ${options.collection} is clean again`);
									this.broker.broadcast(`cache.clean.${options.collection}`);
								} catch {
									this.cacheCleanRetry = undefined;
									this.retryCacheClean(Math.min(delayMs * 2, CLEAN_RETRY_MAX_MS));
								}
							}, delayMs);
							this.cacheCleanRetry.unref();
						},
					}
				: {}),

			/** A stored entity as a plain object with a string `_id`: a mongoose document through the adapter, a plain one (lean, SQLite) as it is. */
			async toPlain(this: DbThis, doc: unknown) {
				if (!doc) return null;
				const plain = (typeof (doc as { toJSON?: unknown }).toJSON === "function" ? await this.adapter.entityToObject(doc) : doc) as Record<string, unknown>;
				return { ...plain, _id: String(plain._id) };
			},

			/** An id the store cannot hold (not an ObjectId on MongoDB) finds nothing, rather than failing. */
			isValidId(id: string): boolean {
				return mongoUri && !options.stringIds ? mongoose.isValidObjectId(id) : typeof id === "string" && id.length > 0;
			},

			newId(): string {
				return new mongoose.Types.ObjectId().toHexString();
			},

			// Reads on MongoDB ask for plain objects: building a mongoose document for each was most of a read's cost.
			async findEntity(this: DbThis, query: object) {
				return this.toPlain(mongoUri ? await mongoModel(this.adapter).findOne(query).lean().exec() : await sqlite(this.adapter).findOne(query));
			},

			async findEntityById(this: DbThis, id: string) {
				if (!this.isValidId(id)) return null;
				return this.toPlain(mongoUri ? await mongoModel(this.adapter).findById(id).lean().exec() : await sqlite(this.adapter).byId(id));
			},

			async findEntities(this: DbThis, filters: FindFilters) {
				const docs = mongoUri ? ((await mongoCursor(this.adapter, filters).lean().exec()) as unknown[]) : await this.adapter.find(filters);
				return Promise.all(docs.map(doc => this.toPlain(doc)));
			},

			countEntities(this: DbThis, query: object = {}) {
				return this.adapter.count({ query });
			},

			async insertEntityIfNew(this: DbThis, entity: object) {
				try {
					return await this.insertEntity(entity);
				} catch (err) {
					if (isDuplicateKeyError(err)) return null;
					throw err;
				}
			},

			async findPage(this: DbThis, query: object, sort: string[], request: PageRequest) {
				const { pageSize, offset } = pageWindow(request);
				const [rows, total] = await Promise.all([this.findEntities({ query, sort, limit: pageSize, offset }), this.countEntities(query)]);
				return toPage(rows, total, request);
			},

			async insertEntity(this: DbThis, entity: object) {
				const saved = await this.toPlain(await this.adapter.insert(entity));
				await this.clearCache(saved ? [saved._id] : undefined);
				return saved;
			},

			/** Applies a MongoDB-style update ({ $set, $inc, ... }) to one entity and returns it. */
			async updateEntityById(this: DbThis, id: string, update: object) {
				if (!this.isValidId(id)) return null;
				const saved = await this.toPlain(await this.adapter.updateById(id, update));
				await this.clearCache([id]);
				return saved;
			},

			/**
			 * One atomic conditional update: changes the entities that match `query` and
			 * returns how many changed. The building block for stock and state changes.
			 */
			async updateEntities(this: DbThis, query: { _id?: unknown }, update: object) {
				// One entity by its id: findAndModify, which FerretDB looks up by _id instead of scanning.
				if (typeof query._id === "string") return (await this.updateOne(query as { _id: string }, update)) ? 1 : 0;
				const changed = await this.adapter.updateMany(query, update);
				if (changed > 0) await this.clearCache();
				return changed;
			},

			async updateEntityIf(this: DbThis, query: { _id: string }, update: object) {
				return this.toPlain(await this.updateOne(query, update));
			},

			async updateUnseenFields(this: DbThis, query: { _id: string }, update: object) {
				return (await this.updateOne(query, update, false)) !== null;
			},

			/**
			 * The entity `query._id` updated, if it matched `query`: one command (findAndModify; one
			 * synchronous read and write in SQLite). `clean`: the cached answers that can hold it go.
			 */
			async updateOne(this: DbThis, query: { _id: string }, update: object, clean = true): Promise<unknown> {
				if (!this.isValidId(query._id)) return null;
				const updated = mongoUri
					? await mongoModel(this.adapter).findOneAndUpdate(query, update, { new: true }).lean().exec()
					: await sqlite(this.adapter).updateOne(query, update);
				if (updated && clean) await this.clearCache([query._id]);
				return updated;
			},

			...(options.outbox
				? {
						outboxStore(this: DbThis): OutboxStore {
							return {
								owing: (limit, except) => this.findEntities({ query: owingExcept(except), limit }),
								byId: id => this.findEntityById(id),
								update: (query, update) => this.updateEntities(query, update),
							};
						},
					}
				: {}),

			async removeEntities(this: DbThis, query: object) {
				const removed = await this.adapter.removeMany(query);
				if (removed > 0) await this.clearCache();
				return removed;
			},

			lacks,
		},

		/**
		 * The indexes are built before the service takes requests: a unique index that is not
		 * there yet guarantees nothing. (The embedded store builds them as it opens.)
		 */
		async afterConnected(this: DbThis & { seedDatabase?: () => Promise<void>; logger: { warn(...args: unknown[]): void } }) {
			if (mongoUri) {
				await warnIfStandIn(this.adapter, this.logger);
				await (this.adapter as unknown as { model: mongoose.Model<unknown> }).model.init();
			}
			if (this.seedDatabase && (await this.adapter.count()) === 0) await this.seedDatabase();
		},

		stopped(this: DbThis & CacheCleaning) {
			clearTimeout(this.cacheCleanRetry);
		},
	} as unknown as Partial<ServiceSchema>;
}
