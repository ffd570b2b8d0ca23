/**
 * Builds the web console into dist/public: one bundle of web/src (TypeScript and JSX,
 * Preact), its stylesheet and index.html. `npm run build` runs it after the server build.
 */
import { copyFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { build } from "esbuild";

const root = path.resolve(__dirname, "..");
const outdir = path.join(root, "dist/public");

async function main(): Promise<void> {
	await mkdir(outdir, { recursive: true });
	await build({
		entryPoints: { app: path.join(__dirname, "src/main.tsx") },
		outdir,
		bundle: true,
		minify: true,
		sourcemap: true,
		format: "esm",
		target: ["es2022"],
		jsx: "automatic",
		jsxImportSource: "preact",
		logLevel: "warning",
	});
	await copyFile(path.join(__dirname, "index.html"), path.join(outdir, "index.html"));
}

main().catch((err: unknown) => {
	process.stderr.write(`web build failed: ${String(err)}\n`);
	process.exit(1);
});
