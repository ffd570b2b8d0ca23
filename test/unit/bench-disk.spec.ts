import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { directorySize } from "../../bench/lib/disk";

describe("disk use of the data directory", () => {
	let dir: string;
	beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), "bench-disk-"))));
	afterEach(() => rmSync(dir, { recursive: true, force: true }));

	it("counts the bytes of every file, write-ahead logs included, and nothing of a folder", () => {
		writeFileSync(path.join(dir, "orders.sqlite"), "x".repeat(1000));
		writeFileSync(path.join(dir, "orders.sqlite-wal"), "w".repeat(300));
		mkdirSync(path.join(dir, "backup"));
		writeFileSync(path.join(dir, "backup", "old.sqlite"), "y".repeat(500));
		expect(directorySize(dir)).toEqual({ total: 1300, files: { "orders.sqlite": 1000, "orders.sqlite-wal": 300 } });
	});
});
