/**
 * Group commit for an NeDB datastore that keeps a file: the writes made while the file is
 * busy go into it together, in one append.
 *
 * NeDB runs one operation at a time per datastore, and a write holds the line until its
 * append (an open, a write and a close of the file) is done; under load the file, not the
 * CPU, sets the pace. Here a write queues its lines and frees the datastore for the next
 * operation at once; every operation, read or write, answers only when everything queued
 * before it ended is in the file. A caller never hears of a write, or reads a document,
 * that a crash could still take back, exactly as before, and lines reach the file in the
 * order the writes were made.
 *
 * Compaction needs nothing more: it rewrites the file from memory, which holds every queued
 * write, and an append that lands after it repeats a line the next compaction drops.
 */
import type Datastore from "@seald-io/nedb";
import { appendFile } from "node:fs/promises";

/** NeDB's document serializer (the one its own appends use). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const model = require("@seald-io/nedb/lib/model.js") as { serialize(doc: unknown): string };

type Persistence = {
	filename: string;
	inMemoryOnly: boolean;
	modes: { fileMode: number };
	afterSerialization(line: string): string;
	persistNewStateAsync(docs: unknown[]): Promise<void>;
};

type Executor = { pushAsync<T>(task: () => Promise<T>, forceQueuing?: boolean): Promise<T> };

type Internals = { persistence: Persistence; executor: Executor };

/** Lines waiting for the file, appended one group at a time, in order. */
class AppendQueue {
	private queued = "";
	/** The append that holds the latest line queued: started, or waiting for the one before it to finish. */
	private last: Promise<void> = Promise.resolve();
	private lastStarted = true;

	constructor(private readonly append: (text: string) => Promise<void>) {}

	queue(text: string): void {
		this.queued += text;
		if (!this.lastStarted) return;
		this.lastStarted = false;
		this.last = this.last
			.catch(() => undefined)
			.then(() => {
				const text = this.queued;
				this.queued = "";
				this.lastStarted = true;
				return this.append(text);
			});
		// Its writer hears of a failure; the next group goes on regardless, as NeDB's next write would.
		this.last.catch(() => undefined);
	}

	/** The append that holds every line queued so far (resolved when there is none). */
	latest(): Promise<void> {
		return this.last;
	}
}

/** Makes `db` commit in groups (see above); a datastore without a file is left as it is. */
export function groupCommits<T>(db: Datastore<T>): void {
	const { persistence, executor } = db as unknown as Internals;
	if (persistence.inMemoryOnly) return;
	const appends = new AppendQueue(text => appendFile(persistence.filename, text, { encoding: "utf8", mode: persistence.modes.fileMode }));

	/** Whether the operation running now wrote (the datastore runs one at a time). */
	let wrote = false;
	persistence.persistNewStateAsync = async docs => {
		for (const doc of docs) appends.queue(`${persistence.afterSerialization(model.serialize(doc))}\n`);
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
				inFile = appends.latest();
			}
		}, forceQueuing);
		// A write fails if its own lines could not be appended; a read only waits for what it may have seen.
		await (ownLines ? inFile : inFile.catch(() => undefined));
		return result;
	};
}
