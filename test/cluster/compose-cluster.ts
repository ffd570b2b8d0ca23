/**
 * Runs the application services of docker-compose.yml as local processes: the command
 * of the Dockerfile's runtime stage (or the service's `command`), with the environment of
 * the Dockerfile and of the compose service, the compose hostnames (nats, mongo, redis)
 * pointed at the servers of servers.ts. What the harness changes on top is listed in
 * TEST_OVERRIDES and per-instance values (node ID; gateway, metrics and health ports); nothing else.
 *
 * If compose and the project disagree (a service without a container, a server the
 * harness cannot provide, a ${VAR:?} it cannot fill), starting fails.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { freePort, type ServerUrls } from "./servers";

const ROOT = path.resolve(__dirname, "../..");
const LOG_ROOT = path.join(ROOT, ".cache", "cluster-logs");
const WATCHDOG = path.join(__dirname, "exit-with-parent.cjs");

/** Test-only settings: faster failure detection and recovery, quieter logs. */
export const TEST_OVERRIDES: Record<string, string> = {
	HEARTBEAT_INTERVAL: "1",
	HEARTBEAT_TIMEOUT: "4",
	REQUEST_TIMEOUT: "10000",
	ORDER_ABANDON_AFTER_MS: "15000",
	EVENTS_ACK_WAIT_MS: "3000",
	LOGLEVEL: "warn",
};

/** Values for the ${VAR} references of the compose file. */
export const COMPOSE_VARIABLES: Record<string, string> = {
	JWT_SECRET: "cluster-test-secret",
	ADMIN_EMAIL: "admin@shop.test",
	ADMIN_PASSWORD: "admin-password-1",
	// Unused while TRACING is unset; a local address, as the harness provides no Zipkin.
	ZIPKIN_URL: "http://127.0.0.1:9411",
};

type ComposeService = {
	build?: unknown;
	image?: string;
	command?: string | string[];
	environment?: Record<string, string | number | boolean | null> | string[];
};

/** Ports a container has to itself; as local processes, each instance gets free ones instead. */
const INSTANCE_PORTS = ["PORT", "METRICS_PORT", "HEALTH_PORT"];

export type Instance = { service: string; nodeID: string; port?: number; ports: Record<string, number>; child: ChildProcess; logFile: string };

/** Resolves ${VAR}, ${VAR:-default} and ${VAR:?message} the way compose does. */
export function interpolate(value: string, variables: Record<string, string>): string {
	return value.replace(/\$\{(\w+)(?::?([-?])([^}]*))?\}/g, (_match, name: string, op?: string, arg?: string) => {
		const current = variables[name];
		if (current) return current;
		if (op === "?") throw new Error(`compose needs ${name}: ${arg}`);
		return op === "-" ? (arg ?? "") : "";
	});
}

/** ENV and CMD of the last stage of the Dockerfile. */
export function readDockerfile(text: string): { env: Record<string, string>; cmd: string[]; workdir: string } {
	const lines = text.replace(/\\\n/g, " ").split("\n");
	const lastFrom = lines.map(l => /^FROM\s/i.test(l.trim())).lastIndexOf(true);
	const env: Record<string, string> = {};
	let cmd: string[] = [];
	let workdir = "/";
	for (const line of lines.slice(lastFrom + 1).map(l => l.trim())) {
		const [instruction, ...rest] = line.split(/\s+/);
		const args = rest.join(" ");
		if (/^ENV$/i.test(instruction)) {
			for (const pair of args.match(/\w+=("[^"]*"|\S+)/g) ?? []) {
				const [key, ...value] = pair.split("=");
				env[key] = value.join("=").replace(/^"|"$/g, "");
			}
		} else if (/^CMD$/i.test(instruction)) {
			cmd = JSON.parse(args) as string[];
		} else if (/^WORKDIR$/i.test(instruction)) {
			workdir = args;
		}
	}
	return { env, cmd, workdir };
}

function environmentOf(service: ComposeService): Record<string, string> {
	const env = service.environment ?? {};
	if (Array.isArray(env)) return Object.fromEntries(env.map(pair => pair.split(/=(.*)/s).slice(0, 2)));
	return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? "" : String(v)]));
}

export class ComposeCluster {
	readonly instances: Instance[] = [];
	private readonly logDir: string;
	private seq: Record<string, number> = {};

	private constructor(
		readonly namespace: string,
		private readonly appServices: Record<string, ComposeService>,
		private readonly dockerfile: ReturnType<typeof readDockerfile>,
		private readonly hostMap: Record<string, string>,
		private readonly database: string,
		private readonly variables: Record<string, string>,
	) {
		this.logDir = path.join(LOG_ROOT, namespace);
		mkdirSync(this.logDir, { recursive: true });
	}

	/**
	 * Reads compose and Dockerfile and starts `scale[name] ?? 1` instances of every application
	 * service. `variables` add to COMPOSE_VARIABLES, as a user's environment would for compose.
	 */
	static async start(servers: ServerUrls, scale: Record<string, number> = {}, variables: Record<string, string> = {}): Promise<ComposeCluster> {
		const compose = parse(readFileSync(path.join(ROOT, "docker-compose.yml"), "utf8"), { merge: true }) as {
			services: Record<string, ComposeService>;
		};
		const dockerfile = readDockerfile(readFileSync(path.join(ROOT, "Dockerfile"), "utf8"));
		const appServices = Object.fromEntries(Object.entries(compose.services).filter(([, s]) => s.build !== undefined));

		// Every service of the project runs in a container of its own, and no container runs a stranger.
		const sources = readdirSync(path.join(ROOT, "services"))
			.filter(f => f.endsWith(".service.ts"))
			.map(f => f.replace(".service.ts", ""));
		const composed = Object.values(appServices).map(s => environmentOf(s).SERVICES);
		const missing = sources.filter(name => !composed.includes(name));
		const strangers = composed.filter(name => !sources.includes(name));
		if (missing.length || strangers.length) {
			throw new Error(`docker-compose.yml and services/ disagree: without a container: [${missing}], unknown: [${strangers}]`);
		}
		const unknownScale = Object.keys(scale).filter(name => !appServices[name]);
		if (unknownScale.length) throw new Error(`no compose service named ${unknownScale.join(", ")}`);

		// The hosts after "scheme://"; a list of URLs (the servers of a NATS cluster) keeps its schemes after the first.
		const hostOf = (urls: string) =>
			urls
				.split(",")
				.map((url, i) => (i === 0 ? new URL(url).host : `${new URL(url).protocol}//${new URL(url).host}`))
				.join(",");
		const hostMap: Record<string, string> = {
			"nats:4222": hostOf(servers.natsUrl),
			"redis:6379": hostOf(servers.redisUrl),
			"mongo:27017": hostOf(servers.mongoUri),
		};
		const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
		const cluster = new ComposeCluster(`shop-test-${id}`, appServices, dockerfile, hostMap, `shop_test_${id}`, { ...COMPOSE_VARIABLES, ...variables });
		try {
			for (const name of Object.keys(appServices)) {
				for (let i = 0; i < (scale[name] ?? 1); i++) await cluster.startInstance(name);
			}
		} catch (err) {
			await cluster.stopAll();
			throw err;
		}
		return cluster;
	}

	/** The environment of one instance of a compose service, as its container would have it. */
	private environment(name: string, nodeID: string, port?: number): Record<string, string> {
		const env: Record<string, string> = {};
		const fromImage = this.dockerfile.env;
		const fromCompose = environmentOf(this.appServices[name]);
		for (const [key, raw] of Object.entries({ ...fromImage, ...fromCompose })) {
			let value = interpolate(raw, this.variables);
			if (value.startsWith(`${this.dockerfile.workdir}/`)) value = path.join(ROOT, value.slice(this.dockerfile.workdir.length + 1));
			value = value.replace(/^(\w+:\/\/)([\w.-]+:\d+)/, (whole, scheme: string, host: string) => {
				const mapped = this.hostMap[host];
				if (!mapped && !/^(127\.|localhost)/.test(host)) throw new Error(`${key}=${value}: the harness provides no server for ${host}`);
				return mapped ? scheme + mapped : whole;
			});
			if (key === "MONGO_URI") value = value.replace(/\/[\w-]*$/, `/${this.database}`);
			env[key] = value;
		}
		return {
			PATH: process.env.PATH ?? "",
			HOME: process.env.HOME ?? "",
			...env,
			...TEST_OVERRIDES,
			NAMESPACE: this.namespace,
			NODEID: nodeID,
			...(port ? { PORT: String(port) } : {}),
			NODE_OPTIONS: [env.NODE_OPTIONS, `--require ${WATCHDOG}`].filter(Boolean).join(" "),
		};
	}

	async startInstance(name: string): Promise<Instance> {
		this.seq[name] = (this.seq[name] ?? 0) + 1;
		const nodeID = `${name}-${this.seq[name]}`;
		const service = this.appServices[name];
		const command = service.command ? ([] as string[]).concat(service.command) : this.dockerfile.cmd;
		const env = this.environment(name, nodeID);
		const ports: Record<string, number> = {};
		for (const key of INSTANCE_PORTS.filter(k => env[k])) {
			ports[key] = await freePort();
			env[key] = String(ports[key]);
		}
		const port = ports.PORT;
		const [program, ...args] = command;
		const logFile = path.join(this.logDir, `${nodeID}.log`);
		const log = createWriteStream(logFile, { flags: "a" });
		const child = spawn(program === "node" ? process.execPath : program, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
		child.stdout.pipe(log);
		child.stderr.pipe(log);
		const instance = { service: name, nodeID, port, ports, child, logFile };
		this.instances.push(instance);
		return instance;
	}

	of(service: string): Instance[] {
		return this.instances.filter(i => i.service === service && i.child.exitCode === null && i.child.signalCode === null);
	}

	apiUrls(): string[] {
		return this.of("api").map(i => `http://127.0.0.1:${i.port}`);
	}

	/** Sends `signal` and waits until the process is gone. */
	async stop(instance: Instance, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
		const { child } = instance;
		if (child.exitCode !== null || child.signalCode !== null) return;
		const exited = new Promise<void>(resolve => child.once("exit", () => resolve()));
		child.kill(signal);
		const force = setTimeout(() => child.kill("SIGKILL"), 20_000);
		await exited;
		clearTimeout(force);
	}

	async stopAll(): Promise<void> {
		await Promise.all(this.instances.map(i => this.stop(i)));
	}

	/** Where each instance's output went, for reading after a failure. */
	logs(): string {
		return this.logDir;
	}
}
