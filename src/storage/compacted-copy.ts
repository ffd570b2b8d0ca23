/**
 * A compacted copy of a SQLite file, written by a worker thread (`VACUUM INTO`), so that the
 * copy, which takes time in proportion to the file, never holds the event loop. The caller
 * has closed the file: the worker opens it alone (exclusively: no other process may write it
 * meanwhile), writes the copy, starts the copy's count of writes since a compaction over,
 * syncs the copy to disk and closes the file again.
 */
import { Worker } from "node:worker_threads";

// Plain JavaScript, evaluated by the worker: the same under the TypeScript loader, jest and dist/.
const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { DatabaseSync } = require("node:sqlite");
const fs = require("node:fs");
const db = new DatabaseSync(workerData.file);
try {
	db.exec("PRAGMA locking_mode = EXCLUSIVE");
	db.prepare("VACUUM INTO ?").run(workerData.copy);
} finally {
	db.close();
}
// The copy has taken no write since its compaction (the count of SqliteCollection.recordWrites).
const copy = new DatabaseSync(workerData.copy);
try {
	copy.exec("PRAGMA user_version = 0");
} finally {
	copy.close();
}
const fd = fs.openSync(workerData.copy, "r+");
try {
	fs.fsyncSync(fd);
} finally {
	fs.closeSync(fd);
}
`;

/** Writes a compacted copy of the closed SQLite file `file` to `copy` (which must not exist), synced to disk. */
export function writeCompactedCopy(file: string, copy: string): Promise<void> {
	return new Promise((resolve, reject) => {
		const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, copy } });
		let failure: unknown;
		worker.on("error", err => (failure = err));
		worker.on("exit", code => {
			if (failure !== undefined) reject(failure);
			else if (code !== 0) reject(new Error(`the compaction of ${file} stopped with exit code ${code}`));
			else resolve();
		});
	});
}
