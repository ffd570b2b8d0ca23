/**
 * Compaction of an NeDB file that does not stop the shop while it runs.
 *
 * NeDB compacts by writing the whole collection from memory to a new file and renaming it
 * over the old one. It serializes every document in one synchronous loop (NeDB's serializer,
 * a replacer on every key), which held the event loop for a second or more per collection
 * once the benchmark's collections held a few hundred thousand documents; and every datastore
 * did it at the same moment, since their timers all start with the process. Orders stalled
 * for seconds every `NEDB_COMPACT_INTERVAL_MS`.
 *
 * Here the documents are serialized in slices, the process free to answer between them, with
 * the group commit's serializer (plain JSON for a document without a Date: the same line),
 * and the new file is written in a few large writes instead of one per line;
 * the datastore's own operations still wait until the new file is in place, as NeDB makes
 * them. Each datastore's first compaction comes at a random moment of its interval, so that
 * the collections take their turns instead of all at once.
 */
import { open } from "node:fs/promises";
import path from "node:path";
import { setImmediate as nextTurn } from "node:timers/promises";
import type Datastore from "@seald-io/nedb";
import { serialize } from "./nedb-group-commit";

type Modes = { fileMode: number; dirMode: number };

/** NeDB's own serializer (for the index lines) and the file steps of its crash-safe rewrite. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const model = require("@seald-io/nedb/lib/model.js") as { serialize(doc: unknown): string };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const storage = require("@seald-io/nedb/lib/storage.js") as {
	existsAsync(filename: string): Promise<boolean>;
	renameAsync(from: string, to: string): Promise<void>;
	flushToStorageAsync(options: { filename: string; isDir?: boolean; mode: number }): Promise<void>;
};

/**
 * NeDB's crash-safe rewrite (sync what is there, write a temporary file, sync it, rename it
 * over the file, sync the folder), but the text goes in a few large writes: NeDB writes each
 * line through a stream, some 300,000 writes for 300,000 documents, which took a rewrite of
 * the benchmark's event log 1.8 s.
 */
async function crashSafeWrite(filename: string, chunks: readonly string[], modes: Modes): Promise<void> {
	const folder = path.dirname(filename);
	const temporary = `${filename}~`;
	await storage.flushToStorageAsync({ filename: folder, isDir: true, mode: modes.dirMode });
	if (await storage.existsAsync(filename)) await storage.flushToStorageAsync({ filename, mode: modes.fileMode });
	const file = await open(temporary, "w", modes.fileMode);
	try {
		for (const chunk of chunks) await file.write(chunk);
	} finally {
		await file.close();
	}
	await storage.flushToStorageAsync({ filename: temporary, mode: modes.fileMode });
	await storage.renameAsync(temporary, filename);
	await storage.flushToStorageAsync({ filename: folder, isDir: true, mode: modes.dirMode });
}

/** Documents serialized between two turns of the event loop: some milliseconds of work. */
export const COMPACTION_SLICE = 2_000;

/** NeDB never compacts more often than this. */
const MIN_INTERVAL_MS = 5_000;

type Internals = {
	persistence: {
		inMemoryOnly: boolean;
		filename: string;
		modes: Modes;
		afterSerialization(line: string): string;
		persistCachedDatabaseAsync(): Promise<void>;
	};
	indexes: Record<string, { unique: boolean; sparse: boolean }>;
	emit(event: string): void;
};

/** Makes `db` write its compacted file in slices (see above); a datastore without a file is left as it is. */
export function compactInSlices<T>(db: Datastore<T>): void {
	const { persistence } = db as unknown as Internals;
	if (persistence.inMemoryOnly) return;
	persistence.persistCachedDatabaseAsync = async () => {
		// NeDB runs nothing else on this datastore until this ends, so the documents stay as they are now.
		const docs = db.getAllData();
		const chunks: string[] = [];
		for (let start = 0; start < docs.length; start += COMPACTION_SLICE) {
			if (start > 0) await nextTurn();
			let chunk = "";
			for (let i = start; i < Math.min(start + COMPACTION_SLICE, docs.length); i++) chunk += `${persistence.afterSerialization(serialize(docs[i]))}\n`;
			chunks.push(chunk);
		}
		const { indexes } = db as unknown as Internals;
		for (const [fieldName, { unique, sparse }] of Object.entries(indexes)) {
			if (fieldName !== "_id") chunks.push(`${persistence.afterSerialization(model.serialize({ $$indexCreated: { fieldName, unique, sparse } }))}\n`);
		}
		await crashSafeWrite(persistence.filename, chunks, persistence.modes);
		(db as unknown as Internals).emit("compaction.done");
	};
}

/**
 * Compacts `db` every `intervalMs` (at least 5 s, as NeDB), the first time at a random moment
 * within the first interval. Returns what stops it.
 */
export function startAutocompaction<T>(db: Datastore<T>, intervalMs: number, random: () => number = Math.random): () => void {
	const every = Math.max(intervalMs, MIN_INTERVAL_MS);
	let repeat: NodeJS.Timeout | undefined;
	// A rewrite that fails leaves the old file, which holds everything: the next round tries again.
	const compact = () => void db.compactDatafileAsync().catch(() => undefined);
	const first = setTimeout(() => {
		compact();
		repeat = setInterval(compact, every);
	}, random() * every);
	return () => {
		clearTimeout(first);
		clearInterval(repeat);
	};
}
