/**
 * The embedded store: a collection of JSON documents in a SQLite table (`node:sqlite`, built
 * into Node), with the query and update language the services speak to MongoDB.
 *
 * Documents live on disk, so the process's memory does not grow with the data. Every write
 * is whole or absent after a crash (a multi-document change too), and the writes of one turn
 * of the event loop commit together (see `writing`). The file is in WAL mode with `synchronous=NORMAL`: a
 * write that has answered survives the process dying; only an OS crash or a power cut can
 * take back the last moments (NeDB, the store this replaced, never synced its file either).
 * The process holds each file exclusively while it has it open (`locking_mode=EXCLUSIVE`):
 * no transaction takes or gives back a file lock, the write-ahead log's index lives in the
 * process's memory instead of a shared file, and a second process (another shop on the same
 * DATA_DIR) cannot open the file at all.
 *
 * Matching and updating reuse NeDB's implementation of MongoDB's operators (`model.match`,
 * `model.modify`), so a query means here what it meant there. SQL does the part it can:
 * conditions on `_id` and on the declared index fields (`=`, `$in`, `$lt`, `$lte`, `$gt`,
 * `$gte`, `$ne` with plain values) pick the rows through an index, and when the whole
 * query and its sort are of that kind, SQLite sorts, skips and limits too. Whatever is left
 * (`$or`, `$regex`, fields that no index names) is checked in JavaScript on the rows SQL
 * picked. An index field holds a string, a finite number or a boolean (or nothing): a write
 * that puts anything else there is refused, which is what keeps the SQL part exact.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, rmSync, statfsSync, statSync } from "node:fs";
import path from "node:path";
import { StringDecoder } from "node:string_decoder";
import { DatabaseSync, type SQLInputValue, type SQLOutputValue, type StatementResultingChanges, type StatementSync } from "node:sqlite";
import { Types } from "mongoose";
import { writeCompactedCopy } from "./compacted-copy";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const model = require("@seald-io/nedb/lib/model.js") as {
	serialize(doc: unknown): string;
	deserialize(text: string): unknown;
	match(doc: unknown, query: object): boolean;
	modify<T>(doc: T, update: object): T;
	compareThings(a: unknown, b: unknown): number;
	getDotValue(doc: unknown, field: string): unknown;
};

export type Keyed = { _id: string };

/**
 * An index: its fields in order, each ascending (1) or descending (-1). `sparse`: only the
 * documents that have its (first) field are in it, for a field present only while some work
 * is owed; SQLite still uses it for any comparison on that field. A unique index refuses a
 * second document with the same plain value; documents without one (the field missing, or
 * an array, an object, a Date) never collide, as if it were sparse.
 */
export type TableIndex = {
	fields: Record<string, 1 | -1>;
	unique?: boolean;
	sparse?: boolean;
	/**
	 * Kept for documents an earlier version wrote, which only an NeDB file can bring into a
	 * SQLite file (openSqliteCollection): the index exists in a file moved in from one, and in
	 * no other. (MongoDB keeps every index it was given.)
	 */
	legacy?: boolean;
};

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

/** Field names NeDB let begin with `$`: its own markers (a Date's `$$date` holds a number). */
function allowedDollarKey(key: string, value: unknown): boolean {
	return (key === "$$date" && typeof value === "number") || (key === "$$deleted" && value === true) || key === "$$indexCreated" || key === "$$indexRemoved";
}

/**
 * Checks every field name in `value` as NeDB did (none begins with `$`, none holds a `.`: a
 * query could not tell such a field from an operator or a path; throws like NeDB), and
 * answers whether `value` holds a Date anywhere. One pass over the document, where NeDB's
 * `checkObject` and a search for Dates took two, at some ten times the cost.
 */
function checkFields(value: object): boolean {
	if (value instanceof Date) return true;
	let hasDate = false;
	if (Array.isArray(value)) {
		for (const item of value) if (typeof item === "object" && item !== null && checkFields(item)) hasDate = true;
		return hasDate;
	}
	for (const key of Object.keys(value)) {
		const field = (value as Record<string, unknown>)[key];
		if (key.charCodeAt(0) === 36 /* $ */ && !allowedDollarKey(key, field)) throw new Error("Field names cannot begin with the $ character");
		if (key.includes(".")) throw new Error("Field names cannot contain a .");
		if (typeof field === "object" && field !== null && checkFields(field)) hasDate = true;
	}
	return hasDate;
}

/**
 * A document's text, its field names checked (checkFields): NeDB's serializer keeps a Date a
 * Date (`{ $$date }`); without one, plain JSON is the same text at a third of the cost.
 */
const serialize = (doc: object) => (checkFields(doc) ? model.serialize(doc) : JSON.stringify(doc));
const deserialize = <T>(text: string) => (text.includes('"$$date"') ? model.deserialize(text) : JSON.parse(text)) as T;

const TRUE = new Uint8Array([1]);
const FALSE = new Uint8Array([0]);

/**
 * A plain value as SQL compares it: a string or a finite number as it is, a boolean as a
 * one-byte BLOB, which equals no number or string and sorts after both, as in NeDB (numbers,
 * then strings, then booleans). Anything else has no SQL value (its column is NULL).
 */
function sqlValue(value: unknown): SQLInputValue | undefined {
	if (typeof value === "string" || (typeof value === "number" && Number.isFinite(value))) return value;
	if (typeof value === "boolean") return value ? TRUE : FALSE;
	return undefined;
}

const RANGES: Record<string, string> = { $lt: "<", $lte: "<=", $gt: ">", $gte: ">=" };

/** `{ $gt: 5, $lt: 9 }`: an object of operators only (not a RegExp, a Date, or an object to compare whole). */
function operatorsOf(condition: unknown): [string, unknown][] | null {
	if (typeof condition !== "object" || condition === null || Object.getPrototypeOf(condition) !== Object.prototype) return null;
	const entries = Object.entries(condition);
	return entries.length > 0 && entries.every(([key]) => key.startsWith("$")) ? entries : null;
}

/**
 * One operator as SQL, exactly as NeDB reads it, or null when SQL cannot say (the rows are
 * then checked in JavaScript). A range compares values of the operand's type only (NeDB
 * compares no number with a string); `$ne` keeps what lacks the field; `$in` takes its list
 * as one JSON parameter, so that one prepared statement serves every length.
 */
function comparison(column: string, operator: string, operand: unknown): { sql: string; params: SQLInputValue[] } | null {
	const range = RANGES[operator];
	if (range && typeof operand === "string") return { sql: `(${column} ${range} ? AND typeof(${column}) = 'text')`, params: [operand] };
	if (range && typeof operand === "number" && Number.isFinite(operand))
		return { sql: `(${column} ${range} ? AND typeof(${column}) IN ('integer', 'real'))`, params: [operand] };
	const value = sqlValue(operand);
	if (operator === "$ne" && value !== undefined) return { sql: `${column} IS NOT ?`, params: [value] };
	if (operator === "$in" && Array.isArray(operand) && operand.every(item => typeof item === "string" || (typeof item === "number" && Number.isFinite(item))))
		return { sql: `${column} IN (SELECT value FROM json_each(?))`, params: [JSON.stringify(operand)] };
	return null;
}

type SqlPart = { where: string; params: SQLInputValue[]; exact: boolean };

/** The lines of a file, read a megabyte at a time (an NeDB file can be larger than a string can hold). */
function* linesOf(file: string): Generator<string> {
	const fd = openSync(file, "r");
	try {
		const chunk = Buffer.alloc(1 << 20);
		const decoder = new StringDecoder("utf8");
		let rest = "";
		for (let read = readSync(fd, chunk); read > 0; read = readSync(fd, chunk)) {
			const lines = (rest + decoder.write(chunk.subarray(0, read))).split("\n");
			rest = lines.pop() ?? "";
			yield* lines;
		}
		rest += decoder.end();
		if (rest) yield rest;
	} finally {
		closeSync(fd);
	}
}

/** SQLite's result code for a file another connection holds (`database is locked`). */
const SQLITE_BUSY = 5;

/**
 * The id of a document inserted without one: a MongoDB ObjectId's hex, as MongoDB would give
 * it. Its first bytes are the time, so new documents go at the end of the id index rather
 * than on a random page of it.
 */
const newId = () => new Types.ObjectId().toHexString();

/** The writes of one turn of the event loop, in one transaction, and the promise of its commit. */
type Group = { committed: Promise<void>; settle(err?: unknown): void };

/** A document's row as the reads select it: its id, its text, and the columns of the index fields of its own (`f:<field>`). */
type Row = { id: string; doc: string } & Record<string, SQLOutputValue>;

/** The column that holds an index field's value beside the document. */
const columnName = (field: string) => `f:${field.replace(/"/g, "")}`;

/** A column's value as the document holds it: a boolean's one-byte BLOB is the boolean again. */
const fromColumn = (value: SQLOutputValue): unknown => (value instanceof Uint8Array ? value[0] === 1 : value);

/**
 * Compaction (`compact`): a file is worth one once it took, since the last one, at least as
 * many writes as it holds documents (and 1,000): each may have left room in a page, a
 * document that shrank (an order whose outbox emptied), one removed, or an index page split
 * in two by an insert in its middle. Its cost, a copy of the file, is then paid once per as
 * many writes as the file holds documents.
 */
const MIN_WRITES_TO_COMPACT = 1_000;

/** Where a compaction writes its copy of `file`, renamed over the file once whole. */
const compactingCopy = (file: string) => `${file}.compacting`;

/** Removes what a compaction of `file` may leave when it fails or is cut short: its copy, and the copy's journal. */
function removeLeftovers(file: string): void {
	for (const leftover of [compactingCopy(file), `${compactingCopy(file)}-journal`]) {
		try {
			rmSync(leftover, { force: true });
		} catch {
			// What cannot be removed now is removed as the file opens next, or replaced by the next compaction's copy.
		}
	}
}

/**
 * Opens `file` (memory when null) as the store holds its files: exclusively, in WAL mode.
 * Exclusive before the first access in WAL mode: then SQLite keeps the log's index in memory, not in a -shm file.
 */
function openDatabase(file: string | null): DatabaseSync {
	const db = new DatabaseSync(file ?? ":memory:");
	try {
		if (file) db.exec("PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
		return db;
	} catch (err) {
		db.close();
		throw err;
	}
}

/** Makes a rename in `directory` survive a power cut. */
function syncDirectory(directory: string): void {
	const fd = openSync(directory, "r");
	try {
		fsyncSync(fd);
	} finally {
		closeSync(fd);
	}
}

/** The open files, which `compactChurnedFiles` looks at. */
const openFiles = new Set<SqliteCollection<Keyed>>();

export class SqliteCollection<T extends Keyed> {
	private db: DatabaseSync;
	/** While a compaction has the file closed (see `compact`): every call waits for it, in the order they came. */
	private paused: Promise<void> | null = null;
	private closed = false;
	/** Documents inserted, rewritten or removed since the file was last compacted (kept in the file's header as it closes: see `recordWrites`). */
	private writesSinceCompaction = 0;
	/** `writesSinceCompaction` when compact last counted the documents (it counts again only after more). */
	private writesCounted = -1;
	private readonly statements = new Map<string, StatementSync>();
	/** The fields SQL may compare: `_id` and those of an index, each with its column. */
	private readonly columns = new Map<string, string>([["_id", "id"]]);
	/** The index fields, whose values are kept in columns of their own beside the document. */
	private readonly indexed: string[] = [];
	/** The index fields of the document itself (no dotted path), whose values its text leaves to their columns (see `text`), each with its column's name. */
	private readonly ownFields = new Map<string, string>();
	/** What a read selects of a row: the id, the text, and the columns of `ownFields`. */
	private readonly rowColumns: string;
	private group: Group | null = null;
	/** The insert of a document with its index columns (built once: every insert runs it). */
	private readonly insertSql: string;

	/**
	 * @param file the SQLite file, or null to keep the collection in memory (tests)
	 */
	constructor(
		readonly name: string,
		private readonly file: string | null,
		indexes: TableIndex[] = [],
	) {
		for (const index of indexes) {
			for (const field of Object.keys(index.fields)) {
				if (this.columns.has(field)) continue;
				this.columns.set(field, `"${columnName(field)}"`);
				this.indexed.push(field);
			}
		}
		for (const field of this.indexed) if (!field.includes(".")) this.ownFields.set(field, columnName(field));
		this.rowColumns = ["id", "doc", ...[...this.ownFields.keys()].map(field => this.columns.get(field))].join(", ");
		const columns = this.indexed.map(field => `, ${this.columns.get(field)}`).join("");
		this.insertSql = `INSERT INTO docs (id, doc${columns}) VALUES (?, ?${", ?".repeat(this.indexed.length)})`;
		// What a compaction that a crash cut short left: the file itself is whole. Removing the copy also
		// makes a compaction under way in another process (which does not hold the file while it copies) fail rather than replace the file.
		if (file) removeLeftovers(file);
		this.db = openDatabase(file);
		try {
			this.db.exec("CREATE TABLE IF NOT EXISTS docs (id TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL)");
			this.keepColumns();
			this.keepIndexes(indexes);
			this.writesSinceCompaction = this.writesRecorded();
			if (file) openFiles.add(this);
		} catch (err) {
			// Nothing to keep open (and locked) after a failed start: another process holds the file, a unique index meets duplicates, the disk is full.
			this.db.close();
			throw err;
		}
	}

	/**
	 * An index field's value lives in a column of its own, written with the document: an index
	 * on a column is read and kept without parsing the document, and an update touches only the
	 * indexes whose fields it changed. A column new to the file is filled from the documents;
	 * one no longer declared goes. All in one transaction: a crash half-way leaves the file as
	 * it was, never a column that exists unfilled.
	 */
	private keepColumns(): void {
		const existing = (this.db.prepare("SELECT name FROM pragma_table_info('docs')").all() as { name: string }[]).map(row => row.name);
		const wanted = new Set(this.indexed.map(columnName));
		const dropped = existing.filter(name => name.startsWith("f:") && !wanted.has(name));
		const added = this.indexed.filter(field => !existing.includes(columnName(field)));
		if (dropped.length === 0 && added.length === 0) return;
		this.inTransaction(() => {
			this.restoreFields(dropped);
			for (const name of dropped) this.dropColumn(name);
			for (const field of added) this.db.exec(`ALTER TABLE docs ADD COLUMN ${this.columns.get(field)}`);
			if (added.length === 0) return;
			const fill = this.db.prepare(`UPDATE docs SET ${added.map(field => `${this.columns.get(field)} = ?`).join(", ")} WHERE rowid = ?`);
			const page = this.db.prepare("SELECT rowid, doc FROM docs WHERE rowid > ? ORDER BY rowid LIMIT 1000");
			for (let rows = page.all(0) as { rowid: number; doc: string }[]; rows.length > 0; rows = page.all(rows[rows.length - 1].rowid) as typeof rows) {
				for (const row of rows) {
					const doc = deserialize<T>(row.doc);
					fill.run(...added.map(field => this.columnValue(doc, field)), row.rowid);
				}
			}
		});
	}

	/**
	 * Writes the values of the columns about to go (`f:<field>`) back into the text of each
	 * document that was stored without them (see `text`). A dotted field never left the text.
	 */
	private restoreFields(columns: string[]): void {
		const own = columns.filter(name => !name.includes("."));
		if (own.length === 0) return;
		const write = this.db.prepare("UPDATE docs SET doc = ? WHERE rowid = ?");
		const page = this.db.prepare(`SELECT rowid, doc, ${own.map(name => `"${name}"`).join(", ")} FROM docs WHERE rowid > ? ORDER BY rowid LIMIT 1000`);
		for (let rows = page.all(0) as Row[]; rows.length > 0; rows = page.all(rows[rows.length - 1].rowid) as Row[]) {
			for (const row of rows) {
				const doc = deserialize<Record<string, unknown>>(row.doc);
				const missing = own.filter(name => row[name] !== null && !(name.slice(2) in doc));
				for (const name of missing) doc[name.slice(2)] = fromColumn(row[name]);
				if (missing.length > 0) write.run(serialize(doc), row.rowid as number);
			}
		}
	}

	/** Runs `work` in a transaction of its own, outside the group commit (opening a file, an import): all of it or none, and its errors thrown. */
	private inTransaction(work: () => void): void {
		this.commit();
		this.db.exec("BEGIN IMMEDIATE");
		try {
			work();
			this.db.exec("COMMIT");
		} catch (err) {
			if (this.db.isTransaction) this.db.exec("ROLLBACK");
			throw err;
		}
	}

	private dropColumn(name: string): void {
		const indexes = this.db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'docs' AND sql IS NOT NULL").all() as {
			name: string;
			sql: string;
		}[];
		for (const index of indexes) if (index.sql.includes(`"${name}"`)) this.db.exec(`DROP INDEX "${index.name}"`);
		this.db.exec(`ALTER TABLE docs DROP COLUMN "${name}"`);
	}

	/**
	 * What an index field's column holds: its value, or NULL when the document lacks it (or
	 * holds null). Any other value (an array, an object, a Date) is refused, with the write:
	 * SQL could not compare it as NeDB does, and a query on the field would miss the document.
	 */
	private columnValue(doc: T, field: string): SQLInputValue {
		// A field of the document itself needs no path walk (NeDB's splits the name on every call).
		const value = field.includes(".") ? model.getDotValue(doc, field) : (doc as Record<string, unknown>)[field];
		if (value === undefined || value === null) return null;
		const column = sqlValue(value);
		if (column === undefined)
			throw new TypeError(`${this.name}: the index field ${field} must hold a string, a finite number or a boolean, not ${JSON.stringify(value)}`);
		return column;
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
			const value = sqlValue(condition);
			const operators = operatorsOf(condition);
			if (column && value !== undefined) {
				terms.push(`${column} = ?`);
				params.push(value);
			} else if (column && operators) {
				for (const [operator, operand] of operators) {
					const term = comparison(column, operator, operand);
					if (term) {
						terms.push(term.sql);
						params.push(...term.params);
					} else exact = false;
				}
			} else exact = false;
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
		const rows = this.statement(`SELECT ${this.rowColumns} FROM docs${where}`).all(...params) as Row[];
		const docs = rows.map(row => this.fromRow(row));
		return exact ? docs : docs.filter(doc => model.match(doc, query));
	}

	/** Runs the statements of `work` whole or not at all (a savepoint in the turn's transaction); one statement is so by itself. */
	private atomically<R>(work: () => R): R {
		this.db.exec("SAVEPOINT work");
		try {
			const result = work();
			this.db.exec("RELEASE work");
			return result;
		} catch (err) {
			// (Unless SQLite rolled the whole transaction back: see run.)
			if (this.db.isTransaction) {
				this.db.exec("ROLLBACK TO work");
				this.db.exec("RELEASE work");
			}
			throw err;
		}
	}

	/** Read and write of a conditional change happen in one synchronous step: no other call runs between them. */
	private get(id: string): T | null {
		const row = this.statement(`SELECT ${this.rowColumns} FROM docs WHERE id = ?`).get(id) as Row | undefined;
		return row ? this.fromRow(row) : null;
	}

	async byId(id: string): Promise<T | null> {
		while (this.paused) await this.paused;
		return this.answer(this.get(id));
	}

	async findOne(query: object): Promise<T | null> {
		return (await this.find(query, { limit: 1 }))[0] ?? null;
	}

	async find(query: object, { limit, skip, sort }: FindOptions = {}): Promise<T[]> {
		while (this.paused) await this.paused;
		const { where, params, exact } = this.sqlPart(query);
		const order = this.orderBy(sort);
		if (exact && order !== null) {
			const rows = this.statement(`SELECT ${this.rowColumns} FROM docs${where}${order} LIMIT ? OFFSET ?`).all(
				...params,
				limit && limit > 0 ? limit : -1,
				skip ?? 0,
			) as Row[];
			return this.answer(rows.map(row => this.fromRow(row)));
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
		while (this.paused) await this.paused;
		const { where, params, exact } = this.sqlPart(query);
		if (exact) return this.answer(Number((this.statement(`SELECT count(*) AS n FROM docs${where}`).get(...params) as { n: number }).n));
		return this.answer(this.matching(query).length);
	}

	/** Stores `doc` (with a new `_id` if it has none) and answers it as stored; a unique index that holds its key refuses it (DuplicateKeyError). */
	async insert(doc: object): Promise<T> {
		while (this.paused) await this.paused;
		return this.writes(() => this.put(doc));
	}

	/** Stores every document of `docs`, or (when one is refused) none. */
	async insertMany(docs: object[]): Promise<T[]> {
		while (this.paused) await this.paused;
		return this.writes(() => this.atomically(() => docs.map(doc => this.put(doc))));
	}

	/** Inserts `doc` unless one with its `_id` (or a unique key of it) exists: false then, and nothing written. */
	async insertIfNew(doc: T): Promise<boolean> {
		while (this.paused) await this.paused;
		try {
			await this.writes(() => this.store(doc));
			return true;
		} catch (err) {
			if (err instanceof DuplicateKeyError) return false;
			throw err;
		}
	}

	/** One atomic conditional update of the document `query._id`: the document right after, or null when it did not match (and nothing changed). */
	async updateOne(query: Keyed & Record<string, unknown>, update: object): Promise<T | null> {
		while (this.paused) await this.paused;
		return this.writes(() => {
			const doc = this.get(query._id);
			return doc && model.match(doc, query) ? this.replace(doc, update) : null;
		});
	}

	/** Updates every document that matches `query`, all or none; answers how many. */
	async updateMany(query: object, update: object): Promise<number> {
		while (this.paused) await this.paused;
		return this.writes(() => {
			const docs = this.matching(query);
			return docs.length === 0 ? 0 : this.atomically(() => docs.map(doc => this.replace(doc, update)).length);
		});
	}

	/** Removes the document `query._id` if it still matches `query`; true when it did. */
	async removeOne(query: Keyed & Record<string, unknown>): Promise<boolean> {
		while (this.paused) await this.paused;
		return this.writes(() => {
			const doc = this.get(query._id);
			if (doc === null || !model.match(doc, query)) return false;
			return this.run(() => this.statement("DELETE FROM docs WHERE id = ?").run(doc._id)).changes > 0;
		});
	}

	/** Removes every document that matches `query`; answers how many. */
	async removeMany(query: object): Promise<number> {
		while (this.paused) await this.paused;
		return this.writes(() => {
			const { where, params, exact } = this.sqlPart(query);
			if (exact) return Number(this.run(() => this.statement(`DELETE FROM docs${where}`).run(...params)).changes);
			const ids = this.matching(query).map(doc => doc._id);
			const remove = this.statement("DELETE FROM docs WHERE id = ?");
			return this.atomically(() => ids.reduce((removed, id) => removed + Number(this.run(() => remove.run(id)).changes), 0));
		});
	}

	/**
	 * A write of this turn: it runs now, whole, in the turn's transaction, and answers once that
	 * is committed; refused (a duplicate key, a bad update), it answers that after the commit too.
	 */
	private writes<R>(work: () => R): Promise<R> {
		try {
			this.writing();
			return this.answer(work());
		} catch (err) {
			return this.refused(err);
		}
	}

	/** Inserts one document and answers it as stored (a copy: nothing the caller holds is shared with it). */
	private put(doc: object): T {
		const { stored, text } = this.store(doc);
		return this.document(text, stored._id, field => (stored as Record<string, unknown>)[field]);
	}

	/** Inserts one document, its index columns beside it; answers it and its text. */
	private store(doc: object): { stored: T; text: string } {
		const stored = { ...doc, _id: (doc as Partial<Keyed>)._id ?? newId() } as T;
		const values = this.indexed.map(field => this.columnValue(stored, field));
		const text = this.text(stored);
		this.run(() => this.statement(this.insertSql).run(stored._id, text, ...values));
		return { stored, text };
	}

	/**
	 * A document's text, without what its row holds in columns: its `_id` (a string), and each
	 * index field of its own that has a value. The file keeps each value once, and the reads
	 * put them back (`document`). A field holding null stays in the text: its column cannot
	 * tell null from absent. So does a string with a lone surrogate, which its column (UTF-8)
	 * holds as U+FFFD: the text keeps it exact, and the read takes it from there.
	 */
	private text(doc: T): string {
		// No prototype: a field named __proto__ is a field like any other.
		const rest: Record<string, unknown> = Object.create(null);
		for (const [field, value] of Object.entries(doc)) {
			const inColumn = field === "_id" || (this.ownFields.has(field) && value !== null && value !== undefined);
			if (inColumn && (typeof value !== "string" || value.isWellFormed())) continue;
			rest[field] = value;
		}
		return serialize(rest);
	}

	/** A document from its text and the values its row keeps beside it (`valueOf` an own index field's, null when none). */
	private document(text: string, id: string, valueOf: (field: string) => unknown): T {
		const doc = deserialize<Record<string, unknown>>(text);
		// A document stored before its fields left the text has them there, the same values.
		if (!("_id" in doc)) doc._id = id;
		for (const field of this.ownFields.keys()) {
			const value = valueOf(field);
			if (value !== null && value !== undefined && !(field in doc)) doc[field] = value;
		}
		return doc as T;
	}

	private fromRow(row: Row): T {
		return this.document(row.doc, row.id, field => fromColumn(row[this.ownFields.get(field)!]));
	}

	/** Writes `doc` changed by `update`, and the index columns whose values it changed (only their indexes are touched). */
	private replace(doc: T, update: object): T {
		const updated = model.modify(doc, update);
		const changed = this.indexed
			.map(field => ({ field, value: this.columnValue(updated, field) }))
			.filter(({ field, value }) => value !== this.columnValue(doc, field));
		const text = this.text(updated);
		const sets = changed.map(({ field }) => `, ${this.columns.get(field)} = ?`).join("");
		this.run(() => this.statement(`UPDATE docs SET doc = ?${sets} WHERE id = ?`).run(text, ...changed.map(({ value }) => value), updated._id));
		return updated;
	}

	/**
	 * Runs a write statement and counts the documents it wrote (for `compact`). A unique index's
	 * refusal becomes a DuplicateKeyError. Some errors (a full disk, an I/O error) make SQLite
	 * roll back the whole transaction: then every write of the turn so far is gone, and their
	 * callers hear so from the group.
	 */
	private run(statement: () => StatementResultingChanges): StatementResultingChanges {
		try {
			const result = statement();
			this.writesSinceCompaction += Number(result.changes);
			return result;
		} catch (err) {
			if (this.group && !this.db.isTransaction) {
				const group = this.group;
				this.group = null;
				group.settle(err);
			}
			const message = (err as Error).message ?? "";
			if (message.includes("UNIQUE constraint failed")) throw new DuplicateKeyError(this.name, message.replace(/^.*UNIQUE constraint failed: /, ""));
			throw err;
		}
	}

	/**
	 * A refused write answers once the turn is committed too: what refused it (a document with
	 * the same key) may be a write of this very turn, which a crash could still take back.
	 */
	private refused(err: unknown): Promise<never> {
		return this.group ? this.group.committed.then(() => Promise.reject(err)) : Promise.reject(err);
	}

	/** How SQLite would run `query` (its plan), for tests and for whoever wonders whether an index serves it. */
	plan(query: object, sort?: Sort): string[] {
		const { where, params } = this.sqlPart(query);
		const order = this.orderBy(sort) ?? "";
		return (this.db.prepare(`EXPLAIN QUERY PLAN SELECT doc FROM docs${where}${order}`).all(...params) as { detail: string }[]).map(row => row.detail);
	}

	/**
	 * Moves in the documents of an NeDB file (the store of earlier versions: one JSON line per
	 * write, the last line of an `_id` wins, `$$deleted` removes it), in one transaction that
	 * replaces by `_id`: a crash or a full disk half-way leaves nothing, and the next start
	 * does it again. Like NeDB, it skips lines that are not documents (an append cut off by a
	 * crash), unless more than a tenth of them are: then it refuses the file (throws).
	 */
	importNedbFile(file: string): number {
		const docs = new Map<string, T>();
		let lines = 0;
		let corrupt = 0;
		for (const line of linesOf(file)) {
			if (!line.trim()) continue;
			lines += 1;
			let doc: T & { $$deleted?: boolean; $$indexCreated?: unknown; $$indexRemoved?: unknown };
			try {
				doc = model.deserialize(line) as typeof doc;
			} catch {
				corrupt += 1;
				continue;
			}
			if (doc.$$indexCreated || doc.$$indexRemoved) continue;
			if (typeof doc._id !== "string") corrupt += 1;
			else if (doc.$$deleted) docs.delete(doc._id);
			else docs.set(doc._id, doc);
		}
		if (corrupt > lines / 10) throw new Error(`${file}: ${corrupt} of ${lines} lines are not documents; not moved in`);
		const remove = this.statement("DELETE FROM docs WHERE id = ?");
		this.inTransaction(() =>
			docs.forEach(doc => {
				remove.run(doc._id);
				this.store(doc);
			}),
		);
		return docs.size;
	}

	/**
	 * Compacts the file if it is worth it (see MIN_WRITES_TO_COMPACT) and at most `maxBytes`
	 * large: SQLite's `VACUUM INTO` copies what the file holds into as few pages as it takes,
	 * and the copy takes the file's place. The copy is written by a worker thread
	 * (./compacted-copy.ts) while this collection has the file closed: the event loop goes on,
	 * and the calls to this collection meanwhile wait, in order, until it has the file again
	 * (some 130 to 300 MB of file a second on a 2-core machine). The write-ahead log is folded
	 * in as the file closes, and the copy is synced before it is renamed over the file: a
	 * crash at any point leaves the file whole, before or after. The copy takes room as large
	 * as the file: a file with less than that free beside it is left alone. Answers the file's
	 * size before and after, or null when it did nothing. A compaction that fails (a full disk)
	 * leaves the file as it was, and is not tried again before the file took as many writes once
	 * more. Should something else take the file while it is closed, the compaction fails saying
	 * so, and the calls go on waiting until the collection can open the file again.
	 */
	async compact(maxBytes: number): Promise<{ before: number; after: number } | null> {
		const file = this.file;
		if (!file || this.paused || !this.db.isOpen || this.writesSinceCompaction < MIN_WRITES_TO_COMPACT) return null;
		const before = this.bytesOnDisk();
		if (before > maxBytes) return null;
		if (this.writesSinceCompaction === this.writesCounted) return null;
		this.writesCounted = this.writesSinceCompaction;
		if (this.writesSinceCompaction < Number((this.statement("SELECT count(*) AS n FROM docs").get() as { n: number }).n)) return null;
		const free = statfsSync(path.dirname(file));
		if (free.bavail * free.bsize < before) return null;

		let resume!: () => void;
		this.paused = new Promise(resolve => (resume = resolve));
		const copied = await this.replaceWithCompactedCopy(file).then(
			() => ({ ok: true as const }),
			(err: unknown) => ({ ok: false as const, err }),
		);
		this.writesSinceCompaction = 0;
		this.writesCounted = -1;
		try {
			if (!this.closed) this.db = openDatabase(file);
		} catch (err) {
			// Something else took the file while this collection had it closed: the calls wait until it lets go.
			this.paused = this.openOnceFree(file).then(resume);
			throw new Error(`${file} could not be opened again after its compaction; the calls to ${this.name} wait until it can be`, { cause: err });
		}
		this.paused = null;
		resume();
		if (!copied.ok) throw copied.err;
		return { before, after: this.bytesOnDisk() };
	}

	/**
	 * Closes the file, has a worker write its compacted copy, and renames the copy over it.
	 * Between the close and the rename no connection holds the file: another opener that came
	 * meanwhile (a second shop on the same DATA_DIR) removes the copy as it opens (see the
	 * constructor), so the rename fails rather than replace a file someone else has open.
	 */
	private async replaceWithCompactedCopy(file: string): Promise<void> {
		const copy = compactingCopy(file);
		try {
			this.commit();
			this.statements.clear();
			this.db.close();
			await writeCompactedCopy(file, copy);
			// Each close folds the log into the file and deletes it; one still there would be replayed onto the copy.
			if (existsSync(`${file}-wal`)) throw new Error(`${file}: its write-ahead log was not folded in as it closed; the file is left as it was`);
			syncDirectory(path.dirname(file));
			renameSync(copy, file);
			syncDirectory(path.dirname(file));
		} finally {
			removeLeftovers(file);
		}
	}

	/** Tries every second to open the file again, until it can or the collection is closed. */
	private async openOnceFree(file: string): Promise<void> {
		while (!this.closed) {
			await new Promise(resolve => setTimeout(resolve, 1_000));
			try {
				if (!this.closed) this.db = openDatabase(file);
				break;
			} catch {
				// Still held: try again.
			}
		}
		this.paused = null;
	}

	/**
	 * The count of writes since the last compaction, in the file's header (`user_version`), so
	 * that a restart does not start it over: a shop restarted more often than it writes as
	 * many documents as it holds would otherwise never compact. Written as the file closes; a
	 * compaction's copy starts at 0 (./compacted-copy.ts). After a crash the count is the one of
	 * the last clean close, which only delays the next compaction.
	 */
	private recordWrites(count: number): void {
		if (!this.file) return;
		try {
			this.db.exec(`PRAGMA user_version = ${Math.min(count, 2 ** 31 - 1)}`);
		} catch {
			// A full disk: the count starts lower at the next start, and the compaction comes later.
		}
	}

	/** The count `recordWrites` kept in the file's header (0 for a new file). */
	private writesRecorded(): number {
		return Number((this.db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
	}

	/** The file and its write-ahead log. */
	private bytesOnDisk(): number {
		const size = (file: string) => (existsSync(file) ? statSync(file).size : 0);
		return this.file ? size(this.file) + size(`${this.file}-wal`) : 0;
	}

	/** Commits what the turn wrote so far, and closes the file; resolves once a compaction under way has let it go too. */
	close(): Promise<void> {
		openFiles.delete(this);
		this.closed = true;
		if (this.db.isOpen) {
			this.commit();
			this.recordWrites(this.writesSinceCompaction);
			this.db.close();
		}
		return this.paused ?? Promise.resolve();
	}
}

/** A file compactChurnedFiles compacted: its collection, its bytes before and after, the milliseconds it took. */
export type CompactedFile = { name: string; before: number; after: number; ms: number };

/**
 * Compacts the open files worth it and at most `maxBytes` large (SqliteCollection.compact),
 * one after the other; answers what each compacted file measured before and after.
 */
export async function compactChurnedFiles(maxBytes: number): Promise<CompactedFile[]> {
	const compacted: CompactedFile[] = [];
	for (const collection of [...openFiles]) {
		const started = performance.now();
		const sizes = await collection.compact(maxBytes);
		if (sizes) compacted.push({ name: collection.name, ...sizes, ms: Math.round(performance.now() - started) });
	}
	return compacted;
}

/**
 * Opens the collection `name`: the file `<dataDir>/<name>.sqlite`, or memory when `dataDir`
 * is null (tests). An NeDB file an earlier version left there (`<name>.db`) is moved in once
 * and renamed `<name>.db.imported`; the `legacy` indexes are kept for such a collection only.
 */
export function openSqliteCollection<T extends Keyed>(name: string, dataDir: string | null, indexes: TableIndex[] = []): SqliteCollection<T> {
	const current = indexes.filter(index => !index.legacy);
	if (!dataDir) return new SqliteCollection<T>(name, null, current);
	mkdirSync(dataDir, { recursive: true });
	const file = path.join(dataDir, `${name}.sqlite`);
	const nedbFile = path.join(dataDir, `${name}.db`);
	const fromNedb = existsSync(nedbFile) || existsSync(`${nedbFile}.imported`);
	let collection: SqliteCollection<T>;
	try {
		collection = new SqliteCollection<T>(name, file, fromNedb ? indexes : current);
	} catch (err) {
		if ((err as { errcode?: number }).errcode === SQLITE_BUSY)
			throw new Error(`${file} is locked by another connection: is another shop running on DATA_DIR ${dataDir}?`, { cause: err });
		throw err;
	}
	if (existsSync(nedbFile)) {
		try {
			collection.importNedbFile(nedbFile);
		} catch (err) {
			collection.close();
			throw err;
		}
		renameSync(nedbFile, `${nedbFile}.imported`);
	}
	return collection;
}
