/** Disk use of the embedded shop's NeDB files. */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";

function files(dir: string): { file: string; inode: number; size: number }[] {
	return readdirSync(dir, { withFileTypes: true })
		.filter(entry => entry.isFile())
		.map(entry => {
			const stat = statSync(path.join(dir, entry.name));
			return { file: entry.name, inode: stat.ino, size: stat.size };
		});
}

/**
 * Waits until every data file has been compacted since the call (NeDB compacts by writing
 * a new file and renaming it over the old one, so each file gets a new inode), then
 * returns the bytes of each file and of all. Fails after `timeoutMs`.
 */
export async function compactedSize(dir: string, timeoutMs: number): Promise<{ total: number; files: Record<string, number> }> {
	const before = new Map(files(dir).map(f => [f.file, f.inode]));
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const now = files(dir);
		const waiting = [...before].filter(([file, inode]) => now.find(f => f.file === file)?.inode === inode);
		if (waiting.length === 0) return { total: now.reduce((sum, f) => sum + f.size, 0), files: Object.fromEntries(now.map(f => [f.file, f.size])) };
		if (Date.now() > deadline) throw new Error(`${waiting.map(([file]) => file).join(", ")} not compacted within ${timeoutMs} ms`);
		await new Promise(resolve => setTimeout(resolve, 500));
	}
}
