/**
 * The one place that reads the environment. Every setting an operator may change is
 * here, with its default; services and moleculer.config.ts import from this module.
 */
import path from "node:path";

const env = process.env;

function text(name: string, fallback: string): string;
function text(name: string): string | undefined;
function text(name: string, fallback?: string): string | undefined {
	const value = env[name]?.trim();
	return value ? value : fallback;
}

function int(name: string, fallback: number): number {
	const raw = text(name);
	if (raw === undefined) return fallback;
	const value = Number(raw);
	if (!Number.isInteger(value) || value < 0) {
		throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
	}
	return value;
}

function flag(name: string, fallback: boolean): boolean {
	const raw = text(name);
	if (raw === undefined) return fallback;
	return ["1", "true", "yes", "on"].includes(raw.toLowerCase());
}

function list(name: string): string[] {
	return (text(name) ?? "")
		.split(",")
		.map(item => item.trim())
		.filter(Boolean);
}

const nodeEnv = text("NODE_ENV", "development");
const DEV_JWT_SECRET = "dev-only-secret-change-me";

export const config = {
	nodeEnv,
	isProduction: nodeEnv === "production",
	isTest: nodeEnv === "test",

	broker: {
		namespace: text("NAMESPACE", "shop"),
		nodeID: text("NODEID"),
		transporter: text("TRANSPORTER"),
		/** "Memory": a bounded LRU in each process; redis://host:6379 shares one cache between nodes. */
		cacher: text("CACHER", "Memory"),
		/** Entries an in-process cache keeps at most, and how long any cached answer lives. */
		cacheMaxEntries: int("CACHE_MAX_ENTRIES", 2000),
		cacheTtlSeconds: int("CACHE_TTL_SECONDS", 300),
		/** With Redis: how long a node keeps an answer in its own memory in front of Redis (0: never). */
		cacheNearTtlSeconds: int("CACHE_NEAR_TTL_SECONDS", 5),
		logLevel: text("LOGLEVEL", nodeEnv === "test" ? "warn" : "info"),
		/** "console" (readable) or "json" (one object per line, for log shippers). */
		logFormat: text("LOG_FORMAT", "console"),
		requestTimeout: int("REQUEST_TIMEOUT", 10_000),
		heartbeatInterval: int("HEARTBEAT_INTERVAL", 5),
		heartbeatTimeout: int("HEARTBEAT_TIMEOUT", 15),
		retries: int("RETRY_ATTEMPTS", 3),
		strategy: text("REGISTRY_STRATEGY", "RoundRobin"),
		shutdownTimeout: int("SHUTDOWN_TIMEOUT", 10_000),
		metricsPort: text("METRICS_PORT") ? int("METRICS_PORT", 3030) : undefined,
		/** Liveness and readiness of the node on this port (/live, /ready); unset: no probe port. */
		healthPort: text("HEALTH_PORT") ? int("HEALTH_PORT", 3001) : undefined,
		tracing: text("TRACING"),
		/** Where the Zipkin exporter sends spans when TRACING=Zipkin. */
		zipkinUrl: text("ZIPKIN_URL"),
	},

	storage: {
		mongoUri: text("MONGO_URI"),
		/** The SQLite files go here when MONGO_URI is unset; null keeps data in memory (tests). */
		dataDir: text("DATA_DIR") ? path.resolve(text("DATA_DIR", "")) : nodeEnv === "test" ? null : path.resolve("data"),
	},

	gateway: {
		port: int("PORT", 3000),
		bodyLimit: text("BODY_LIMIT", "100kb"),
		corsOrigins: list("CORS_ORIGINS"),
		authRateLimit: int("AUTH_RATE_LIMIT", 20),
		authRateWindow: int("AUTH_RATE_WINDOW_MS", 60_000),
		/** Password changes per account per AUTH_RATE_WINDOW_MS: each one checks the current password. */
		passwordCheckLimit: int("PASSWORD_CHECK_LIMIT", 5),
		/** Trust X-Forwarded-For for the client address (set when behind a proxy such as Traefik). */
		trustProxy: flag("TRUST_PROXY", false),
		/** Services /ready waits for. */
		requiredServices: list("REQUIRED_SERVICES").length ? list("REQUIRED_SERVICES") : ["users"],
		/** The built web console (`npm run build` writes it), served on "/". */
		webDir: path.resolve(text("WEB_DIR", "dist/public")),
	},

	auth: {
		jwtSecret: text("JWT_SECRET", DEV_JWT_SECRET),
		jwtSecretIsDefault: !text("JWT_SECRET"),
		tokenTtl: text("JWT_EXPIRES_IN", "12h"),
		adminEmail: text("ADMIN_EMAIL"),
		adminPassword: text("ADMIN_PASSWORD"),
	},

	catalog: {
		/** inventory.low goes out when a product's stock falls below this. */
		lowStockThreshold: int("LOW_STOCK_THRESHOLD", 5),
		/** How often each catalog instance lets go of the stock holds of orders given up (a late reservation) or delivered. */
		holdsReconcileIntervalMs: int("HOLDS_RECONCILE_INTERVAL_MS", 5 * 60 * 1000),
		/** Seed the demo catalog when the product collection is empty (embedded runs). */
		seedDemo: flag("SEED_DEMO_CATALOG", !text("MONGO_URI") && nodeEnv !== "test"),
	},

	orders: {
		/** A pending order older than this is taken as abandoned (its saga died) and settled. */
		abandonAfterMs: int("ORDER_ABANDON_AFTER_MS", 60_000),
	},

	/** The sweepers that finish what a write owes (a refund, a release, a charge's outcome) when its request could not. */
	sweeper: {
		/** How often each instance looks for unfinished work. */
		intervalMs: int("SWEEP_INTERVAL_MS", 10_000),
		/** How long work may stay unfinished before a sweeper takes it over from the request doing it. */
		graceMs: int("SWEEP_GRACE_MS", 15_000),
	},

	payments: {
		/** The payment provider; only the built-in "sandbox" exists so far. */
		provider: text("PAYMENT_PROVIDER", "sandbox"),
		/** The sandbox moves no money: in production it runs only when this says so explicitly. */
		allowSandboxInProduction: flag("PAYMENT_ALLOW_SANDBOX", false),
		/** How long a charge waits for the provider; then its outcome is looked up later. */
		providerTimeoutMs: int("PAYMENT_PROVIDER_TIMEOUT_MS", 8000),
		/** A charge the provider says it never got counts as failed once it is this old. */
		unknownAfterMs: int("PAYMENT_UNKNOWN_AFTER_MS", 5 * 60 * 1000),
	},

	events: {
		/**
		 * NATS with JetStream for durable events: EVENTS_NATS_URL, else a nats:// TRANSPORTER; unset: in process.
		 * Either may list the servers of a NATS cluster: nats://a:4222,nats://b:4222.
		 */
		natsUrl: text("EVENTS_NATS_URL") ?? (text("TRANSPORTER")?.startsWith("nats://") ? text("TRANSPORTER") : undefined),
		/** Deliveries of one event to one service, at least, before it may go to the dead letters. */
		maxDeliver: int("EVENTS_MAX_DELIVER", 5),
		/** How long a handler may keep failing on an event before it goes to the dead letters (an unavailable dependency never counts). */
		giveUpAfterMs: int("EVENTS_GIVE_UP_AFTER_MS", 60 * 60 * 1000),
		/** Backoff between deliveries of an event whose handler failed: doubles from the first delay up to the longest. */
		retryFirstDelayMs: int("EVENTS_RETRY_FIRST_DELAY_MS", 1000),
		retryMaxDelayMs: int("EVENTS_RETRY_MAX_DELAY_MS", 5 * 60 * 1000),
		/** How often an instance tries again to publish what its own writes could not (by id). */
		relayIntervalMs: int("OUTBOX_RELAY_INTERVAL_MS", 1000),
		/** How often every instance scans for events any instance left owed (one that died after its write). */
		relayScanIntervalMs: int("OUTBOX_SCAN_INTERVAL_MS", 30_000),
		/** How long a delivery may take before it is given to another instance (JetStream ack wait). */
		ackWaitMs: int("EVENTS_ACK_WAIT_MS", 30_000),
		/** How long the event stream keeps events. */
		retentionDays: int("EVENTS_RETENTION_DAYS", 7),
		/** Copies JetStream keeps of the event streams: 1 on a single NATS server, 3 on a three-node cluster. */
		replicas: int("EVENTS_REPLICAS", 1),
	},

	notifications: {
		/** smtp://user:pass@host:port; unset: mail is logged, not sent. */
		smtpUrl: text("SMTP_URL"),
		mailFrom: text("MAIL_FROM", "Shop <shop@localhost>"),
		/** Users per batch when a promotion goes to everyone. */
		promotionBatchSize: int("PROMOTION_BATCH_SIZE", 100),
	},

	analytics: {
		/** Days the raw event log is kept; rollups are kept for good. */
		retentionDays: int("ANALYTICS_RETENTION_DAYS", 90),
	},

	discovery: {
		expectedServices: list("EXPECTED_SERVICES").length
			? list("EXPECTED_SERVICES")
			: ["api", "users", "discovery", "catalog", "orders", "payments", "notifications", "analytics"],
		historySize: int("DISCOVERY_HISTORY", 100),
	},
};

// A pending order is taken as abandoned only once its request can no longer be running.
if (config.orders.abandonAfterMs <= config.broker.requestTimeout) {
	throw new Error(`ORDER_ABANDON_AFTER_MS (${config.orders.abandonAfterMs}) must be longer than REQUEST_TIMEOUT (${config.broker.requestTimeout})`);
}

// JetStream keeps between one and five copies of a stream.
if (config.events.replicas < 1 || config.events.replicas > 5) {
	throw new Error(`EVENTS_REPLICAS must be between 1 and 5, got ${config.events.replicas}`);
}

export type Config = typeof config;
