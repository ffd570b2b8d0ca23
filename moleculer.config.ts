/**
 * Broker options for every node of the cluster. All values come from src/config.ts,
 * which reads the environment (see the configuration table in README.md).
 */
import type { BrokerOptions, Errors } from "moleculer";
import { NearCacher } from "./src/cache/near-cacher";
import { config } from "./src/config";
import { healthProbes } from "./src/health/health-probes";
import { idleMaintenance } from "./src/maintenance/when-idle";
import { prometheusMetrics, ShopMetricsMiddleware } from "./src/metrics";
import { replCommands } from "./src/repl/commands";
import { RequestContextMiddleware, currentRequestID } from "./src/request-context";
import { traceTags } from "./src/tracing";

const { broker: opts } = config;

function redisCacher(): NonNullable<BrokerOptions["cacher"]> {
	const options = { prefix: `${opts.namespace}-cache`, redis: opts.cacher as unknown as Record<string, unknown>, ttl: opts.cacheTtlSeconds };
	return opts.cacheNearTtlSeconds > 0
		? new NearCacher({ ...options, near: { maxEntries: opts.cacheMaxEntries, ttlSeconds: opts.cacheNearTtlSeconds } })
		: { type: "Redis", options };
}

/** Log lines carry the request ID of the action being handled, when there is one. */
function formatLogLine(type: string, args: unknown[], bindings: { nodeID: string; mod: string }, helpers: { printArgs(args: unknown[]): unknown[] }): string[] {
	const requestID = currentRequestID();
	if (opts.logFormat === "json") {
		const message = helpers.printArgs(args).join(" ");
		return [JSON.stringify({ time: new Date().toISOString(), level: type, nodeID: bindings.nodeID, mod: bindings.mod, requestID, message })];
	}
	const head = `[${new Date().toISOString()}] ${type.toUpperCase().padEnd(5)} ${bindings.nodeID}/${bindings.mod.toUpperCase()}:`;
	return [head, ...(requestID ? [`[${requestID}]`] : []), ...(helpers.printArgs(args) as string[])];
}

const brokerConfig: BrokerOptions = {
	namespace: opts.namespace,
	nodeID: opts.nodeID ?? null,

	logger: {
		type: "Console",
		options: {
			// Moleculer calls the formatter with the bindings and helpers as extra arguments.
			formatter: formatLogLine as unknown as (type: string, args: unknown[]) => string[],
			// An Error prints as its stack (JSON.stringify would print "{}").
			objectPrinter: (obj: unknown) => (obj instanceof Error ? (obj.stack ?? String(obj)) : JSON.stringify(obj)),
		},
	},
	logLevel: opts.logLevel as BrokerOptions["logLevel"],

	// One process unless a transporter is configured (e.g. nats://localhost:4222).
	// (Moleculer accepts a connection URL here; its typings list only the names.)
	transporter: (opts.transporter ?? null) as BrokerOptions["transporter"],
	// A bounded LRU in each process by default (a flood of distinct searches cannot grow it);
	// redis://host:6379 shares the cache between nodes, each keeping its hot answers near for
	// CACHE_NEAR_TTL_SECONDS (src/cache/near-cacher.ts).
	// (ioredis takes the URL as it is; Moleculer's typings expect an options object.)
	cacher: (opts.cacher.startsWith("redis://")
		? redisCacher()
		: opts.cacher === "Memory" || opts.cacher === "MemoryLRU"
			? { type: "MemoryLRU", options: { max: opts.cacheMaxEntries, ttl: opts.cacheTtlSeconds } }
			: opts.cacher) as BrokerOptions["cacher"],
	serializer: "JSON",

	requestTimeout: opts.requestTimeout,

	// Retries are for actions that are safe to repeat: reads, and the writes made
	// idempotent (catalog.reserve/release/settle), which declare `retryPolicy: { enabled: true }`.
	// Any other write is never sent twice by the broker.
	retryPolicy: {
		enabled: false,
		retries: opts.retries,
		delay: 100,
		maxDelay: 1000,
		factor: 2,
		check: (err: Error) => Boolean((err as Errors.MoleculerError).retryable),
	},

	heartbeatInterval: opts.heartbeatInterval,
	heartbeatTimeout: opts.heartbeatTimeout,

	// Graceful stop: a node that is asked to stop finishes the requests it is handling.
	tracking: { enabled: true, shutdownTimeout: opts.shutdownTimeout },

	registry: { strategy: opts.strategy, preferLocal: true },

	circuitBreaker: {
		enabled: true,
		threshold: 0.5,
		minRequestCount: 20,
		windowTime: 60,
		halfOpenTime: 10_000,
		check: (err: Error) => ((err as Errors.MoleculerError).code ?? 500) >= 500,
	},

	bulkhead: { enabled: false },

	validator: true,

	// Prometheus on METRICS_PORT (/metrics): Moleculer's metrics and the shop's, labelled with namespace and node.
	metrics: opts.metricsPort ? prometheusMetrics(opts.metricsPort) : false,

	// Spans keep params and meta only through traceTags, which blanks every secret, for every
	// action and event: the rule is here even while tracing is off, for whoever turns it on.
	// (Moleculer's typings list the exporters by name only; it takes an object with options too.)
	tracing: {
		enabled: Boolean(opts.tracing),
		exporter: opts.tracing ? [opts.tracing === "Zipkin" && opts.zipkinUrl ? { type: "Zipkin", options: { baseURL: opts.zipkinUrl } } : opts.tracing] : [],
		tags: { action: traceTags, event: traceTags },
		// An error's `data` can quote what was sent (a validator's `actual`): spans keep its kind only.
		errorFields: ["name", "message", "code", "type"],
	} as BrokerOptions["tracing"],

	middlewares: [
		RequestContextMiddleware,
		ShopMetricsMiddleware,
		// /live and /ready of this node on HEALTH_PORT, for compose healthchecks and orchestrators.
		...(opts.healthPort !== undefined ? [healthProbes({ port: opts.healthPort })] : []),
		// Once a burst of work has passed: compacts the embedded store's churned files and gives back the heap V8 grew (with --expose-gc).
		idleMaintenance(),
	],

	// Discovery reports each node's uptime from this.
	metadata: { startedAt: new Date().toISOString() },

	// The REPL of `npm run dev` and `npm run cli`, with the shop's commands (src/repl/commands.ts).
	replOptions: { delimiter: "shop $", customCommands: replCommands() },
};

// moleculer-runner replaces a top-level option whose name, upper-cased, is an environment
// variable by that variable's raw text: CACHER=redis://... would become a Redis cacher without
// the options above (no TTL, no near cache), TRACING=Zipkin a tracer that sends its spans
// nowhere. The shop builds both options from those variables itself (src/config.ts has read
// them by now), so the runner is not shown them.
for (const name of ["CACHER", "TRACING"]) delete process.env[name];

export = brokerConfig;
