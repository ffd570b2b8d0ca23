/** Disk use of the embedded shop's data files. */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";

/** The bytes of each file in `dir` (SQLite files and their write-ahead logs) and of all. */
export function directorySize(dir: string): { total: number; files: Record<string, number> } {
	const files = readdirSync(dir, { withFileTypes: true })
		.filter(entry => entry.isFile())
		.map(entry => [entry.name, statSync(path.join(dir, entry.name)).size] as const);
	return { total: files.reduce((sum, [, size]) => sum + size, 0), files: Object.fromEntries(files) };
}
