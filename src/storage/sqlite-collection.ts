/**
 * The embedded store: a collection of JSON documents in a SQLite table (`node:sqlite`, built
 * into Node), with the query and update language the services speak to MongoDB.
 *
 * Documents live on disk, so the process's memory does not grow with the data. Every write
 * is whole or absent after a crash (a multi-document change too), and the writes of one turn
 * of the event loop commit together (see `writing`). The file is in WAL mode with `synchronous=NORMAL`: a
 * write that has answered survives the process dying; only an OS crash or a power cut can
 * take back the last moments (NeDB, the store this replaced, never synced its file either).
 *
 * Matching and updating reuse NeDB's implementation of MongoDB's operators (`model.match`,
 * `model.modify`), so a query means here what it meant there. SQL does the part it can:
 * conditions on `_id` and on the declared index fields (`=`, `$in`, `$lt`, `$lte`, `$gt`,
 * `$gte`, `$ne` with plain values) pick the rows through an index, and when the whole
 * query and its sort are of that kind, SQLite sorts, skips and limits too. Whatever is left
 * (`$or`, `$regex`, fields that no index names) is checked in JavaScript on the rows SQL
 * picked. Index fields are expected to hold plain values (a string, a number, a boolean),
 * not arrays or objects: that is what makes the SQL part exact.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import path from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const model = require("@seald-io/nedb/lib/model.js") as {
	serialize(doc: unknown): string;
	deserialize(text: string): unknown;
	match(doc: unknown, query: object): boolean;
	modify<T>(doc: T, update: object): T;
	checkObject(doc: unknown): void;
	compareThings(a: unknown, b: unknown): number;
	getDotValue(doc: unknown, field: string): unknown;
};

export type Keyed = { _id: string };

/**
 * An index: its fields in order, each ascending (1) or descending (-1). `sparse`: only the
 * documents that have its (first) field are in it, for a field present only while some work
 * is owed; SQLite still uses it for any comparison on that field.
 */
export type TableIndex = { fields: Record<string, 1 | -1>; unique?: boolean; sparse?: boolean };

export type Sort = Record<string, 1 | -1>;

export type FindOptions = { limit?: number; skip?: number; sort?: Sort };

/** The error of a write that a unique index refused (the shape NeDB gave: `errorType: "uniqueViolated"`). */
export class DuplicateKeyError extends Error {
	readonly errorType = "uniqueViolated";
	constructor(collection: string, detail: string) {
		super(`${collection}: a document with the same unique key exists (${detail})`);
		this.name = "DuplicateKeyError";
	}
}

function containsDate(value: unknown): boolean {
	if (value instanceof Date) return true;
	if (typeof value !== "object" || value === null) return false;
	for (const key in value) if (containsDate((value as Record<string, unknown>)[key])) return true;
	return false;
}

/** A document's text: NeDB's serializer keeps a Date a Date (`{ $$date }`); without one, plain JSON is the same text at a third of the cost. */
const serialize = (doc: unknown) => (containsDate(doc) ? model.serialize(doc) : JSON.stringify(doc));
const deserialize = <T>(text: string) => (text.includes('"$$date"') ? model.deserialize(text) : JSON.parse(text)) as T;

/** A value SQL can compare as MongoDB would: strings, numbers, booleans (JSON's true is SQLite's 1). */
function sqlValue(value: unknown): SQLInputValue | undefined {
	if (typeof value === "string" || typeof value === "number") return value;
	if (typeof value === "boolean") return value ? 1 : 0;
	return undefined;
}

const COMPARISONS: Record<string, string> = { $lt: "<", $lte: "<=", $gt: ">", $gte: ">=", $ne: "IS NOT" };

type SqlPart = { where: string; params: SQLInputValue[]; exact: boolean };

/** A document id, as NeDB makes them: 16 random characters. */
const newId = () => randomBytes(12).toString("base64url").slice(0, 16);

/** The writes of one turn of the event loop, in one transaction, and the promise of its commit. */
type Group = { committed: Promise<void>; settle(err?: unknown): void };

export class SqliteCollection<T extends Keyed> {
	private readonly db: DatabaseSync;
	private readonly statements = new Map<string, StatementSync>();
	/** The fields SQL may compare: `_id` and those of an index, each with its column. */
	private readonly columns = new Map<string, string>([["_id", "id"]]);
	/** The index fields, whose values are kept in columns of their own beside the document. */
	private readonly indexed: string[] = [];
	private group: Group | null = null;

	/**
	 * @param file the SQLite file, or null to keep the collection in memory (tests)
	 */
	constructor(
		readonly name: string,
		file: string | null,
		indexes: TableIndex[] = [],
	) {
		this.db = new DatabaseSync(file ?? ":memory:");
		if (file) this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
		this.db.exec("CREATE TABLE IF NOT EXISTS docs (id TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL)");
		for (const index of indexes) {
			for (const field of Object.keys(index.fields)) {
				if (this.columns.has(field)) continue;
				this.columns.set(field, `"f:${field.replace(/"/g, "")}"`);
				this.indexed.push(field);
			}
		}
		this.keepColumns();
		this.keepIndexes(indexes);
	}

	/**
	 * An index field's value lives in a column of its own, written with the document: an index
	 * on a column is read and kept without parsing the document, and an update touches only the
	 * indexes whose fields it changed. A column new to the file is filled from the documents;
	 * one no longer declared goes.
	 */
	private keepColumns(): void {
		const existing = (this.db.prepare("SELECT name FROM pragma_table_info('docs')").all() as { name: string }[]).map(row => row.name);
		const wanted = new Set(this.indexed.map(field => `f:${field}`));
		for (const name of existing) if (name.startsWith("f:") && !wanted.has(name)) this.dropColumn(name);
		const added = this.indexed.filter(field => !existing.includes(`f:${field}`));
		if (added.length === 0) return;
		for (const field of added) this.db.exec(`ALTER TABLE docs ADD COLUMN ${this.columns.get(field)}`);
		const fill = this.db.prepare(`UPDATE docs SET ${added.map(field => `${this.columns.get(field)} = ?`).join(", ")} WHERE id = ?`);
		const rows = this.db.prepare("SELECT id, doc FROM docs").all() as { id: string; doc: string }[];
		this.db.exec("BEGIN");
		for (const row of rows) {
			const doc = deserialize<T>(row.doc);
			fill.run(...added.map(field => this.columnValue(doc, field)), row.id);
		}
		this.db.exec("COMMIT");
	}

	private dropColumn(name: string): void {
		const indexes = this.db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'docs' AND sql IS NOT NULL").all() as {
			name: string;
			sql: string;
		}[];
		for (const index of indexes) if (index.sql.includes(`"${name}"`)) this.db.exec(`DROP INDEX "${index.name}"`);
		this.db.exec(`ALTER TABLE docs DROP COLUMN "${name}"`);
	}

	/** What an index field's column holds: its plain value (true is 1), or NULL for anything else. */
	private columnValue(doc: T, field: string): SQLInputValue {
		return sqlValue(model.getDotValue(doc, field)) ?? null;
	}

	/** Builds the declared indexes before the first request (a unique one guarantees nothing until it exists) and drops those no longer declared. */
	private keepIndexes(indexes: TableIndex[]): void {
		const wanted = new Map<string, string>();
		for (const index of indexes) {
			const fields = Object.entries(index.fields);
			const kind = `${index.unique ? "unique" : "by"}${index.sparse ? "_sparse" : ""}`;
			const name = `${kind}_${fields.map(([field, direction]) => `${field.replace(/\W/g, "_")}${direction === -1 ? "_desc" : ""}`).join("_")}`;
			const parts = fields.map(([field, direction]) => `${this.columns.get(field)}${direction === -1 ? " DESC" : ""}`);
			const where = index.sparse ? ` WHERE ${this.columns.get(fields[0][0])} IS NOT NULL` : "";
			wanted.set(name, `CREATE ${index.unique ? "UNIQUE " : ""}INDEX "${name}" ON docs (${parts.join(", ")})${where}`);
		}
		const existing = this.db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'docs' AND sql IS NOT NULL").all() as {
			name: string;
			sql: string;
		}[];
		for (const { name, sql } of existing) {
			if (wanted.get(name) === sql) wanted.delete(name);
			else this.db.exec(`DROP INDEX "${name}"`);
		}
		for (const sql of wanted.values()) this.db.exec(sql);
	}

	private statement(sql: string): StatementSync {
		let statement = this.statements.get(sql);
		if (!statement) {
			statement = this.db.prepare(sql);
			this.statements.set(sql, statement);
		}
		return statement;
	}

	/**
	 * Group commit: the writes of one turn of the event loop go into one transaction, committed
	 * as the turn ends, so that pages they share (an index's, the table's) are written once.
	 * Each write still runs whole when it is called (a conditional update reads and writes with
	 * nothing in between); what waits is the answer.
	 */
	private writing(): void {
		if (this.group) return;
		this.db.exec("BEGIN");
		let settle!: Group["settle"];
		const committed = new Promise<void>((resolve, reject) => (settle = err => (err === undefined ? resolve() : reject(err))));
		committed.catch(() => undefined);
		this.group = { committed, settle };
		setImmediate(() => this.commit());
	}

	private commit(): void {
		const group = this.group;
		if (!group) return;
		this.group = null;
		try {
			this.db.exec("COMMIT");
			group.settle();
		} catch (err) {
			if (this.db.isTransaction) this.db.exec("ROLLBACK");
			group.settle(err);
		}
	}

	/**
	 * Answers `value` once everything done before it is committed: no caller hears of a
	 * write, or reads a document, that a crash could still take back.
	 */
	private answer<R>(value: R): Promise<R> {
		return this.group ? this.group.committed.then(() => value) : Promise.resolve(value);
	}

	/**
	 * The part of `query` SQL can decide: conditions on `_id` and on index fields with plain
	 * values. `exact` when that is the whole query; otherwise the rows it picks are a superset,
	 * which the caller narrows with `model.match`.
	 */
	private sqlPart(query: object): SqlPart {
		const terms: string[] = [];
		const params: SQLInputValue[] = [];
		let exact = true;
		for (const [field, condition] of Object.entries(query)) {
			const column = this.columns.get(field);
			if (!column) {
				exact = false;
				continue;
			}
			const value = sqlValue(condition);
			if (value !== undefined) {
				terms.push(`${column} = ?`);
				params.push(value);
				continue;
			}
			if (typeof condition !== "object" || condition === null || Array.isArray(condition) || condition instanceof Date) {
				exact = false;
				continue;
			}
			for (const [operator, operand] of Object.entries(condition as Record<string, unknown>)) {
				const comparison = COMPARISONS[operator];
				const operandValue = sqlValue(operand);
				if (comparison && operandValue !== undefined) {
					terms.push(`${column} ${comparison} ?`);
					params.push(operandValue);
				} else if (operator === "$in" && Array.isArray(operand) && operand.every(item => sqlValue(item) !== undefined)) {
					terms.push(operand.length === 0 ? "0" : `${column} IN (${operand.map(() => "?").join(", ")})`);
					params.push(...operand.map(item => sqlValue(item) as SQLInputValue));
				} else exact = false;
			}
		}
		return { where: terms.length > 0 ? ` WHERE ${terms.join(" AND ")}` : "", params, exact };
	}

	private orderBy(sort: Sort | undefined): string | null {
		if (!sort) return "";
		const parts: string[] = [];
		for (const [field, direction] of Object.entries(sort)) {
			const column = this.columns.get(field);
			if (!column) return null;
			parts.push(`${column}${direction === -1 ? " DESC" : ""}`);
		}
		return parts.length > 0 ? ` ORDER BY ${parts.join(", ")}` : "";
	}

	/** The documents SQL picks for `query`, narrowed to those that match it. */
	private matching(query: object): T[] {
		const { where, params, exact } = this.sqlPart(query);
		const rows = this.statement(`SELECT doc FROM docs${where}`).all(...params) as { doc: string }[];
		const docs = rows.map(row => deserialize<T>(row.doc));
		return exact ? docs : docs.filter(doc => model.match(doc, query));
	}

	/** Runs the statements of `work` whole or not at all (a savepoint in the turn's transaction); one statement is so by itself. */
	private atomically<R>(work: () => R): R {
		this.writing();
		this.db.exec("SAVEPOINT work");
		try {
			const result = work();
			this.db.exec("RELEASE work");
			return result;
		} catch (err) {
			this.db.exec("ROLLBACK TO work");
			this.db.exec("RELEASE work");
			throw err;
		}
	}

	/** Read and write of a conditional change happen in one synchronous step: no other call runs between them. */
	private get(id: string): T | null {
		const row = this.statement("SELECT doc FROM docs WHERE id = ?").get(id) as { doc: string } | undefined;
		return row ? deserialize<T>(row.doc) : null;
	}

	async byId(id: string): Promise<T | null> {
		return this.answer(this.get(id));
	}

	async findOne(query: object): Promise<T | null> {
		return (await this.find(query, { limit: 1 }))[0] ?? null;
	}

	async find(query: object, { limit, skip, sort }: FindOptions = {}): Promise<T[]> {
		const { where, params, exact } = this.sqlPart(query);
		const order = this.orderBy(sort);
		if (exact && order !== null) {
			const rows = this.statement(`SELECT doc FROM docs${where}${order} LIMIT ? OFFSET ?`).all(...params, limit && limit > 0 ? limit : -1, skip ?? 0) as {
				doc: string;
			}[];
			return this.answer(rows.map(row => deserialize<T>(row.doc)));
		}
		const docs = this.matching(query);
		if (sort) {
			const fields = Object.entries(sort);
			docs.sort((a, b) => {
				for (const [field, direction] of fields) {
					const order = model.compareThings(model.getDotValue(a, field), model.getDotValue(b, field));
					if (order !== 0) return order * direction;
				}
				return 0;
			});
		}
		const start = skip ?? 0;
		return this.answer(docs.slice(start, limit && limit > 0 ? start + limit : undefined));
	}

	async count(query: object = {}): Promise<number> {
		const { where, params, exact } = this.sqlPart(query);
		if (exact) return this.answer(Number((this.statement(`SELECT count(*) AS n FROM docs${where}`).get(...params) as { n: number }).n));
		return this.answer(this.matching(query).length);
	}

	/** Stores `doc` (with a new `_id` if it has none) and answers it as stored; a unique index that holds its key refuses it (DuplicateKeyError). */
	async insert(doc: object): Promise<T> {
		this.writing();
		return this.answer(this.put(doc));
	}

	/** Stores every document of `docs`, or (when one is refused) none. */
	async insertMany(docs: object[]): Promise<T[]> {
		return this.answer(this.atomically(() => docs.map(doc => this.put(doc))));
	}

	/** Inserts `doc` unless one with its `_id` (or a unique key of it) exists: false then, and nothing written. */
	async insertIfNew(doc: T): Promise<boolean> {
		try {
			await this.insert(doc);
			return true;
		} catch (err) {
			if (err instanceof DuplicateKeyError) return false;
			throw err;
		}
	}

	/** One atomic conditional update of the document `query._id`: the document right after, or null when it did not match (and nothing changed). */
	async updateOne(query: Keyed & Record<string, unknown>, update: object): Promise<T | null> {
		const doc = this.get(query._id);
		if (!doc || !model.match(doc, query)) return this.answer(null);
		this.writing();
		return this.answer(this.replace(doc, update));
	}

	/** Updates every document that matches `query`, all or none; answers how many. */
	async updateMany(query: object, update: object): Promise<number> {
		const docs = this.matching(query);
		if (docs.length === 0) return this.answer(0);
		return this.answer(this.atomically(() => docs.map(doc => this.replace(doc, update)).length));
	}

	/** Removes the document `query._id` if it still matches `query`; true when it did. */
	async removeOne(query: Keyed & Record<string, unknown>): Promise<boolean> {
		const doc = this.get(query._id);
		if (!doc || !model.match(doc, query)) return this.answer(false);
		this.writing();
		return this.answer(this.statement("DELETE FROM docs WHERE id = ?").run(doc._id).changes > 0);
	}

	/** Removes every document that matches `query`; answers how many. */
	async removeMany(query: object): Promise<number> {
		const { where, params, exact } = this.sqlPart(query);
		if (exact) {
			this.writing();
			return this.answer(Number(this.statement(`DELETE FROM docs${where}`).run(...params).changes));
		}
		const ids = this.matching(query).map(doc => doc._id);
		const remove = this.statement("DELETE FROM docs WHERE id = ?");
		return this.answer(this.atomically(() => ids.reduce((removed, id) => removed + Number(remove.run(id).changes), 0)));
	}

	/** Inserts one document, its index columns beside it. */
	private put(doc: object): T {
		const stored = { ...doc, _id: (doc as Partial<Keyed>)._id ?? newId() } as T;
		model.checkObject(stored);
		const text = serialize(stored);
		const columns = this.indexed.map(field => `, ${this.columns.get(field)}`).join("");
		const values = this.indexed.map(() => ", ?").join("");
		this.refusingDuplicates(() =>
			this.statement(`INSERT INTO docs (id, doc${columns}) VALUES (?, ?${values})`).run(
				stored._id,
				text,
				...this.indexed.map(field => this.columnValue(stored, field)),
			),
		);
		return deserialize<T>(text);
	}

	/** Writes `doc` changed by `update`, and the index columns whose values it changed (only their indexes are touched). */
	private replace(doc: T, update: object): T {
		const updated = model.modify(doc, update);
		model.checkObject(updated);
		const changed = this.indexed.filter(field => this.columnValue(doc, field) !== this.columnValue(updated, field));
		const sets = changed.map(field => `, ${this.columns.get(field)} = ?`).join("");
		this.refusingDuplicates(() =>
			this.statement(`UPDATE docs SET doc = ?${sets} WHERE id = ?`).run(
				serialize(updated),
				...changed.map(field => this.columnValue(updated, field)),
				updated._id,
			),
		);
		return updated;
	}

	/** Runs a write, with a unique index's refusal as a DuplicateKeyError. */
	private refusingDuplicates<R>(run: () => R): R {
		try {
			return run();
		} catch (err) {
			const message = (err as Error).message ?? "";
			if (message.includes("UNIQUE constraint failed")) throw new DuplicateKeyError(this.name, message.replace(/^.*UNIQUE constraint failed: /, ""));
			throw err;
		}
	}

	/** How SQLite would run `query` (its plan), for tests and for whoever wonders whether an index serves it. */
	plan(query: object, sort?: Sort): string[] {
		const { where, params } = this.sqlPart(query);
		const order = this.orderBy(sort) ?? "";
		return (this.db.prepare(`EXPLAIN QUERY PLAN SELECT doc FROM docs${where}${order}`).all(...params) as { detail: string }[]).map(row => row.detail);
	}

	/**
	 * Moves in the documents of an NeDB file (the store of earlier versions: one JSON line per
	 * write, the last line of an `_id` wins, `$$deleted` removes it). One transaction that
	 * replaces by `_id`: after a crash half-way, the next start does it again.
	 */
	importNedbFile(file: string): number {
		const docs = new Map<string, T>();
		for (const line of readFileSync(file, "utf8").split("\n")) {
			if (!line.trim()) continue;
			const doc = model.deserialize(line) as T & { $$deleted?: boolean; $$indexCreated?: unknown; $$indexRemoved?: unknown };
			if (doc.$$indexCreated || doc.$$indexRemoved) continue;
			if (doc.$$deleted) docs.delete(doc._id);
			else docs.set(doc._id, doc);
		}
		const remove = this.statement("DELETE FROM docs WHERE id = ?");
		this.atomically(() =>
			docs.forEach(doc => {
				remove.run(doc._id);
				this.put(doc);
			}),
		);
		this.commit();
		return docs.size;
	}

	/** Commits what the turn wrote so far, and closes the file. */
	close(): void {
		if (!this.db.isOpen) return;
		this.commit();
		this.db.close();
	}
}

/**
 * Opens the collection `name`: the file `<dataDir>/<name>.sqlite`, or memory when `dataDir`
 * is null (tests). An NeDB file an earlier version left there (`<name>.db`) is moved in once
 * and renamed `<name>.db.imported`.
 */
export function openSqliteCollection<T extends Keyed>(name: string, dataDir: string | null, indexes: TableIndex[] = []): SqliteCollection<T> {
	if (!dataDir) return new SqliteCollection<T>(name, null, indexes);
	mkdirSync(dataDir, { recursive: true });
	const collection = new SqliteCollection<T>(name, path.join(dataDir, `${name}.sqlite`), indexes);
	const nedbFile = path.join(dataDir, `${name}.db`);
	if (existsSync(nedbFile)) {
		collection.importNedbFile(nedbFile);
		renameSync(nedbFile, `${nedbFile}.imported`);
	}
	return collection;
}
