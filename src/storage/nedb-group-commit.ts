/**
 * Group commit for an NeDB datastore that keeps a file: the writes of one turn of the event
 * loop go into it together, in one append.
 *
 * NeDB runs one operation at a time per datastore, and a write holds the line until its
 * append (an open, a write and a close of the file) is done; under load the file, not the
 * CPU, sets the pace. Here a write queues its lines and frees the datastore for the next
 * operation at once; every operation, read or write, answers only when everything queued
 * before it ended is in the file. A caller never hears of a write, or reads a document,
 * that a crash could still take back, exactly as before, and lines reach the file in the
 * order the writes were made.
 *
 * The file stays open, and a group is appended with one synchronous write once per turn of
 * the event loop (setImmediate). A write to the page cache of a few kilobytes costs the
 * thread some 5 us; an asynchronous one costs it 30 us or more of promise and thread-pool
 * hand-off, and as much again in waiting. Neither waits for the disk (NeDB never syncs an
 * append either).
 *
 * Compaction writes a new file from memory and renames it over this one; the next group
 * then opens the new file. A group appended to the old file meanwhile loses nothing: every
 * write whose lines it holds ran before the compaction, so the new file has them already.
 */
import type Datastore from "@seald-io/nedb";
import { closeSync, openSync, writeSync } from "node:fs";

/** NeDB's document serializer (the one its own appends use). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const model = require("@seald-io/nedb/lib/model.js") as { serialize(doc: unknown): string };

function containsDate(value: unknown): boolean {
	if (value instanceof Date) return true;
	if (typeof value !== "object" || value === null) return false;
	for (const key in value) if (containsDate((value as Record<string, unknown>)[key])) return true;
	return false;
}

/**
 * A document's line, as NeDB writes it. NeDB's serializer runs a replacer on every key (a
 * Date becomes `{ $$date }`, and the key is checked again after the write checked it); for a
 * document without a Date, plain JSON is the same line at a third of the cost.
 */
export const serialize = (doc: unknown) => (containsDate(doc) ? model.serialize(doc) : JSON.stringify(doc));

type Persistence = {
	filename: string;
	inMemoryOnly: boolean;
	modes: { fileMode: number };
	afterSerialization(line: string): string;
	persistNewStateAsync(docs: unknown[]): Promise<void>;
	persistCachedDatabaseAsync(): Promise<void>;
};

type Executor = { pushAsync<T>(task: () => Promise<T>, forceQueuing?: boolean): Promise<T> };

type Internals = { persistence: Persistence; executor: Executor };

/** The datastore's file, open for appending: the lines queued in a turn go in with one write. */
class DataFile {
	private fd: number | null = null;
	private replaced = false;
	private queued = "";
	/** Settles once the group being queued is in the file; null while nothing is queued. */
	private group: PromiseWithResolvers<void> | null = null;
	/** The latest group: being queued, or appended (or failed). */
	private last: Promise<void> = Promise.resolve();

	constructor(private readonly persistence: Persistence) {}

	queue(text: string): void {
		this.queued += text;
		if (this.group) return;
		this.group = Promise.withResolvers<void>();
		this.last = this.group.promise;
		// Its writers hear of a failure; the next group goes on regardless, as NeDB's next write would.
		this.last.catch(() => undefined);
		setImmediate(() => this.appendGroup());
	}

	/** Settles when every line queued so far is in the file (resolved when there is none). */
	latest(): Promise<void> {
		return this.last;
	}

	/** NeDB put a new file in this one's place: the next group opens that. */
	markReplaced(): void {
		this.replaced = true;
	}

	/** Appends what is queued, then closes the file (a later write would open it again). */
	close(): void {
		if (this.group) this.appendGroup();
		this.closeFile();
	}

	private appendGroup(): void {
		const { queued, group } = this;
		if (!group) return;
		this.queued = "";
		this.group = null;
		try {
			this.append(Buffer.from(queued, "utf8"));
			group.resolve();
		} catch (err) {
			// The next group opens the file afresh rather than trust a descriptor that failed.
			this.closeFile();
			group.reject(err);
		}
	}

	private append(bytes: Buffer): void {
		if (this.replaced) this.closeFile();
		this.fd ??= openSync(this.persistence.filename, "a", this.persistence.modes.fileMode);
		for (let written = 0; written < bytes.length;) written += writeSync(this.fd, bytes, written);
	}

	private closeFile(): void {
		const { fd } = this;
		this.fd = null;
		this.replaced = false;
		if (fd !== null) closeSync(fd);
	}
}

/**
 * Makes `db` commit in groups (see above); a datastore without a file is left as it is.
 * Returns what appends the last group and closes the file, for when the datastore is done with.
 */
export function groupCommits<T>(db: Datastore<T>): () => void {
	const { persistence, executor } = db as unknown as Internals;
	if (persistence.inMemoryOnly) return () => undefined;
	const file = new DataFile(persistence);

	const rewrite = persistence.persistCachedDatabaseAsync.bind(persistence);
	persistence.persistCachedDatabaseAsync = async () => {
		await rewrite();
		file.markReplaced();
	};

	/** Whether the operation running now wrote (the datastore runs one at a time). */
	let wrote = false;
	persistence.persistNewStateAsync = async docs => {
		for (const doc of docs) file.queue(`${persistence.afterSerialization(serialize(doc))}\n`);
		if (docs.length > 0) wrote = true;
	};

	const push = executor.pushAsync.bind(executor);
	executor.pushAsync = async <T>(task: () => Promise<T>, forceQueuing?: boolean): Promise<T> => {
		let ownLines = false;
		let inFile = Promise.resolve();
		const result = await push(async () => {
			wrote = false;
			try {
				return await task();
			} finally {
				ownLines = wrote;
				inFile = file.latest();
			}
		}, forceQueuing);
		// A write fails if its own lines could not be appended; a read only waits for what it may have seen.
		await (ownLines ? inFile : inFile.catch(() => undefined));
		return result;
	};

	return () => file.close();
}
