import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { compactedSize } from "../../bench/lib/disk";

describe("disk use after compaction", () => {
	let dir: string;
	beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), "bench-disk-"))));
	afterEach(() => rmSync(dir, { recursive: true, force: true }));

	/** As NeDB compacts: a new file written beside the old one, then renamed over it. */
	const compact = (file: string, content: string) => {
		writeFileSync(path.join(dir, `${file}~`), content);
		renameSync(path.join(dir, `${file}~`), path.join(dir, file));
	};

	it("waits until every file was replaced by its compacted copy, then counts the bytes", async () => {
		writeFileSync(path.join(dir, "orders.db"), "x".repeat(1000));
		writeFileSync(path.join(dir, "products.db"), "y".repeat(500));
		const measured = compactedSize(dir, 5000);
		let settled = false;
		void measured.then(() => (settled = true));

		compact("orders.db", "x".repeat(100));
		await new Promise(resolve => setTimeout(resolve, 700));
		expect(settled).toBe(false);

		compact("products.db", "y".repeat(50));
		await expect(measured).resolves.toEqual({ total: 150, files: { "orders.db": 100, "products.db": 50 } });
	});

	it("fails, naming the files, when they are not compacted in time", async () => {
		writeFileSync(path.join(dir, "analytics.db"), "z");
		await expect(compactedSize(dir, 600)).rejects.toThrow("analytics.db not compacted within 600 ms");
	});
});
