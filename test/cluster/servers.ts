/**
 * The servers the cluster tests need: a MongoDB wire server, NATS and Redis.
 *
 * - MongoDB: MONGO_URI when given; otherwise FerretDB 1.24 (embedded in the small Go
 *   program in ./ferretdb, built once and cached in .cache/), on a fresh database of the
 *   local PostgreSQL when it answers, else on SQLite files in a temp dir.
 * - NATS: NATS_URL when given; else 127.0.0.1:4222 when it answers; else `nats-server -js`.
 * - Redis: REDIS_URL when given; else 127.0.0.1:6379 when it answers; else `redis-server`.
 *
 * Servers it started, it stops. Readiness is a real answer (a MongoDB ping, a NATS INFO
 * line, a Redis PONG), never a sleep.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, readdirSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import mongoose from "mongoose";

const ROOT = path.resolve(__dirname, "../..");
const FERRETDB_SOURCE = path.join(__dirname, "ferretdb");
const FERRETDB_BINARY = path.join(ROOT, ".cache", "ferretdb", "ferretdb-1.24.2");

export type ServerUrls = { mongoUri: string; natsUrl: string; redisUrl: string };

export type Servers = ServerUrls & { stop(): Promise<void> };

function log(message: string): void {
	process.stderr.write(`[cluster servers] ${message}\n`);
}

/** The lowest port of the kernel's range for outgoing connections (Linux's default; other systems start higher). */
const OUTGOING_PORTS_FROM = 32_768;

/** Ports this process handed out: a server may not listen on its port yet when the next one is asked for. */
const handedOut = new Set<number>();

/**
 * A port that no server listens on, on any address, and that this process has not handed
 * out before, for a server started next. Taken below the range of outgoing connections' own
 * ports: a port the kernel handed out from there (as `listen(0)` does) can be taken by any
 * connection before the server listens on it.
 */
export async function freePort(): Promise<number> {
	for (;;) {
		const port = 20_000 + Math.floor(Math.random() * (OUTGOING_PORTS_FROM - 20_000));
		if (handedOut.has(port) || !(await canListen(port))) continue;
		handedOut.add(port);
		return port;
	}
}

function canListen(port: number): Promise<boolean> {
	return new Promise(resolve => {
		const server = net.createServer();
		server.once("error", () => resolve(false));
		server.listen(port, "0.0.0.0", () => server.close(() => resolve(true)));
	});
}

/** Sends `probe` (if any) to host:port and resolves with the first chunk the server answers. */
function tcpAnswer(host: string, port: number, probe?: string, timeoutMs = 1000): Promise<string | null> {
	return new Promise(resolve => {
		const socket = net.connect({ host, port });
		const done = (answer: string | null) => {
			socket.destroy();
			resolve(answer);
		};
		socket.setTimeout(timeoutMs, () => done(null));
		socket.once("error", () => done(null));
		socket.once("data", chunk => done(chunk.toString()));
		socket.once("connect", () => probe && socket.write(probe));
	});
}

export const natsAnswers = (host: string, port: number) => tcpAnswer(host, port).then(a => a?.startsWith("INFO") ?? false);
const redisAnswers = (host: string, port: number) => tcpAnswer(host, port, "PING\r\n").then(a => a?.startsWith("+PONG") ?? false);

export async function until(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await check())) {
		if (Date.now() > deadline) throw new Error(`${what} did not answer within ${timeoutMs} ms`);
		await new Promise(resolve => setTimeout(resolve, 100));
	}
}

export function which(command: string, fallbacks: string[] = []): string | null {
	for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
		const candidate = path.join(dir, command);
		if (existsSync(candidate)) return candidate;
	}
	return fallbacks.find(existsSync) ?? null;
}

export function stopProcess(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
	return new Promise(resolve => {
		const killTimer = setTimeout(() => child.kill("SIGKILL"), 5000);
		child.once("exit", () => {
			clearTimeout(killTimer);
			resolve();
		});
		child.kill("SIGTERM");
	});
}

function newestSourceTime(dir: string): number {
	return Math.max(...readdirSync(dir).map(name => statSync(path.join(dir, name)).mtimeMs));
}

/** Builds the FerretDB program unless the cached binary is newer than its source. */
function ensureFerretDbBinary(): string {
	if (existsSync(FERRETDB_BINARY) && statSync(FERRETDB_BINARY).mtimeMs > newestSourceTime(FERRETDB_SOURCE)) {
		return FERRETDB_BINARY;
	}
	const go = which("go", ["/usr/local/go/bin/go"]);
	if (!go) throw new Error("No MONGO_URI is set and Go is not installed to build FerretDB: install Go, or point MONGO_URI at a MongoDB server.");
	log("building FerretDB 1.24.2 from the Go module proxy (about a minute the first time)...");
	const started = Date.now();
	mkdirSync(path.dirname(FERRETDB_BINARY), { recursive: true });
	const build = spawnSync(go, ["build", "-o", FERRETDB_BINARY, "."], {
		cwd: FERRETDB_SOURCE,
		env: { ...process.env, CGO_ENABLED: "0" },
		stdio: ["ignore", "inherit", "inherit"],
	});
	if (build.status !== 0) throw new Error(`building FerretDB failed (exit ${build.status})`);
	log(`FerretDB built in ${Math.round((Date.now() - started) / 1000)} s`);
	return FERRETDB_BINARY;
}

async function mongoPing(uri: string): Promise<boolean> {
	const conn = mongoose.createConnection(uri, { serverSelectionTimeoutMS: 1000 });
	try {
		await conn.asPromise();
		await conn.db!.admin().ping();
		return true;
	} catch {
		return false;
	} finally {
		await conn.close().catch(() => undefined);
	}
}

export type Started = { url: string; stop(): Promise<void> };

/**
 * A database of its own on the PostgreSQL at FERRETDB_POSTGRES (by default
 * postgres://postgres@127.0.0.1:5432), made with `createdb` and dropped at the end; null
 * when there is no such server or client.
 */
function freshPostgresDatabase(): { url: string; drop(): void } | null {
	const [createdb, dropdb] = [which("createdb"), which("dropdb")];
	if (!createdb || !dropdb) return null;
	const server = new URL(process.env.FERRETDB_POSTGRES ?? "postgres://postgres@127.0.0.1:5432");
	const args = ["-h", server.hostname, "-p", server.port || "5432", "-U", decodeURIComponent(server.username || "postgres"), "-w"];
	const options = { stdio: "ignore" as const, timeout: 10_000, env: { ...process.env, PGPASSWORD: decodeURIComponent(server.password) } };
	const name = `shop_ferretdb_${process.pid}_${Date.now()}`;
	if (spawnSync(createdb, [...args, name], options).status !== 0) return null;
	server.pathname = `/${name}`;
	return { url: server.toString(), drop: () => void spawnSync(dropdb, [...args, "--if-exists", "--force", name], options) };
}

export type FerretDbBackend = "postgresql" | "sqlite";

/**
 * FerretDB on a fresh PostgreSQL database when PostgreSQL answers: on the shop's workload
 * it serves many times the commands of the SQLite backend (`npm run bench:ferretdb`).
 * SQLite files in a temp dir otherwise, which need no server, or when `backend` says so.
 */
export async function startFerretDb(backend: FerretDbBackend | undefined = process.env.FERRETDB_BACKEND as FerretDbBackend | undefined): Promise<Started> {
	const binary = ensureFerretDbBinary();
	const postgres = backend === "sqlite" ? null : freshPostgresDatabase();
	if (backend === "postgresql" && !postgres) throw new Error("No PostgreSQL to run FerretDB on (createdb failed): start one, or set FERRETDB_POSTGRES");
	const stateDir = postgres ? undefined : mkdtempSync(path.join(os.tmpdir(), "shop-ferretdb-"));
	const port = await freePort();
	const store = postgres ? ["-postgresql-url", postgres.url] : ["-state-dir", stateDir!];
	// Its log (every failed command, such as the duplicate keys the shop relies on) goes to a file.
	const logFile = path.join(ROOT, ".cache", "cluster-logs", "ferretdb.log");
	mkdirSync(path.dirname(logFile), { recursive: true });
	const logFd = openSync(logFile, "w");
	const child = spawn(binary, ["-listen-addr", `127.0.0.1:${port}`, ...store, "-log-level", "error"], { stdio: ["ignore", "ignore", logFd] });
	closeSync(logFd);
	const url = `mongodb://127.0.0.1:${port}`;
	await until(() => mongoPing(url), "FerretDB", 30_000);
	log(
		`FerretDB on ${url}, log in ${path.relative(ROOT, logFile)} (${postgres ? `PostgreSQL database ${new URL(postgres.url).pathname.slice(1)}` : `SQLite files in ${stateDir}`})`,
	);
	return {
		url,
		async stop() {
			await stopProcess(child);
			postgres?.drop();
			if (stateDir) rmSync(stateDir, { recursive: true, force: true });
		},
	};
}

async function startNats(): Promise<Started> {
	if (await natsAnswers("127.0.0.1", 4222)) return { url: "nats://127.0.0.1:4222", stop: async () => undefined };
	const binary = which("nats-server", ["/usr/sbin/nats-server"]);
	if (!binary) throw new Error("NATS is not running on 127.0.0.1:4222 and nats-server is not installed: install it, or set NATS_URL.");
	const port = await freePort();
	const storeDir = mkdtempSync(path.join(os.tmpdir(), "shop-nats-"));
	const child = spawn(binary, ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", storeDir], { stdio: "ignore" });
	await until(() => natsAnswers("127.0.0.1", port), "nats-server", 10_000);
	log(`started nats-server on 127.0.0.1:${port}`);
	return {
		url: `nats://127.0.0.1:${port}`,
		async stop() {
			await stopProcess(child);
			rmSync(storeDir, { recursive: true, force: true });
		},
	};
}

async function startRedis(): Promise<Started> {
	if (await redisAnswers("127.0.0.1", 6379)) return { url: "redis://127.0.0.1:6379", stop: async () => undefined };
	const binary = which("redis-server", ["/usr/bin/redis-server"]);
	if (!binary) throw new Error("Redis is not running on 127.0.0.1:6379 and redis-server is not installed: install it, or set REDIS_URL.");
	const port = await freePort();
	const child = spawn(binary, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
	await until(() => redisAnswers("127.0.0.1", port), "redis-server", 10_000);
	log(`started redis-server on 127.0.0.1:${port}`);
	return { url: `redis://127.0.0.1:${port}`, stop: () => stopProcess(child) };
}

const given = (url: string): Started => ({ url, stop: async () => undefined });

/** A NATS server of a spec's own, on a port and store of its own, that the spec may kill and start again. */
export type OwnNats = { url: string; kill(): void; start(): Promise<void>; stop(): Promise<void> };

export async function startOwnNats(): Promise<OwnNats> {
	const binary = which("nats-server", ["/usr/sbin/nats-server"]);
	if (!binary) throw new Error("nats-server is not installed");
	const port = await freePort();
	const storeDir = mkdtempSync(path.join(os.tmpdir(), "shop-nats-own-"));
	let child: ChildProcess | undefined;
	const own: OwnNats = {
		url: `nats://127.0.0.1:${port}`,
		kill() {
			child?.kill("SIGKILL");
			child = undefined;
		},
		async start() {
			child = spawn(binary, ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", storeDir], { stdio: "ignore" });
			await until(() => natsAnswers("127.0.0.1", port), "nats-server", 10_000);
		},
		async stop() {
			if (child) await stopProcess(child);
			child = undefined;
		},
	};
	await own.start();
	return own;
}

export async function startServers(): Promise<Servers> {
	const started: Started[] = [];
	try {
		const mongo = process.env.MONGO_URI ? given(process.env.MONGO_URI) : await startFerretDb();
		started.push(mongo);
		const nats = process.env.NATS_URL ? given(process.env.NATS_URL) : await startNats();
		started.push(nats);
		const redis = process.env.REDIS_URL ? given(process.env.REDIS_URL) : await startRedis();
		started.push(redis);
		return {
			mongoUri: mongo.url,
			natsUrl: nats.url,
			redisUrl: redis.url,
			stop: async () => {
				await Promise.all(started.map(s => s.stop()));
			},
		};
	} catch (err) {
		await Promise.all(started.map(s => s.stop()));
		throw err;
	}
}
