/**
 * api: the HTTP gateway. Routes come from the `rest` property of each service's actions
 * (moleculer-web auto aliases); who may call an action comes from its `auth` property,
 * checked here in one place.
 */
import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context, ServiceBroker, ServiceSchema } from "moleculer";
import ApiGateway, { Errors as WebErrors, type ApiSettingsSchema, type IncomingRequest } from "moleculer-web";
import { NearCachedCalls } from "../mixins/near-cached-calls.mixin";
import { config } from "../src/config";
import { Errors } from "moleculer";
import { errorType, ForbiddenError, NotFoundError, UnauthorizedError } from "../src/errors";
import { authVerdict } from "../src/auth/caller";
import { readToken } from "../src/auth/tokens";
import { AccountCache } from "../src/gateway/account-cache";
import { EncodedAnswers } from "../src/gateway/encoded-answers";
import { rateLimitStoreFor, type RateLimitStoreClass } from "../src/gateway/rate-limit-store";
import { actionOf, ownerOf, ResponseCache, type CachedResponse, type Caller } from "../src/gateway/response-cache";
import { weakETag } from "../src/gateway/etag";
import { alwaysCached, cacheOptionsOf } from "../src/cache/cache-setting";
import { cleanedBy } from "../src/cache/clean-broadcast";
import { countCachedResponse } from "../src/metrics";
import { toErrorResponse } from "../src/http-errors";
import { DOCS_CSP, docsAsset, docsPage } from "../src/openapi/docs-page";
import { buildOpenApiDocument, routesFromAliases, type ListedAlias } from "../src/openapi/document";
import { ACTION_DOCS } from "../src/openapi/responses";
import type { AppContext, AuthRequirement, AuthUser, Meta } from "../src/types";

const { gateway } = config;

/** Actions that are rate limited per client address: the ones that take a password. */
const CREDENTIAL_ACTIONS = ["users.register", "users.login"];

/** Actions that check the current password when given a new one: limited per account. */
const PASSWORD_CHECK_ACTIONS = ["users.update"];

/** Counts of both limits: in Redis, shared by every gateway, when the cacher is Redis; else per instance. */
const RateLimitStore = rateLimitStoreFor(config.broker.cacher);

/** How long the gateway trusts an account it read, should the broadcast of a change be lost; and how many it keeps. */
const ACCOUNT_CACHE_MS = 30_000;
const ACCOUNT_CACHE_ENTRIES = 10_000;

/** A client's X-Request-ID is kept when it is a sane token; otherwise the gateway makes one. */
const REQUEST_ID_PATTERN = /^[\w.:-]{1,128}$/;

/** The request's ID: the client's X-Request-ID when it is a sane token, else a new one. */
function requestIdOf(req: IncomingMessage): string {
	const given = req.headers["x-request-id"];
	return typeof given === "string" && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
}

/** The token of an `Authorization: Bearer <token>` header; null for any other header. */
function bearerToken(header: string): string | null {
	const [scheme, token] = header.split(" ");
	return scheme.toLowerCase() === "bearer" && token ? token : null;
}

/**
 * Who sends this Authorization header, as far as the gateway knows without a check: nobody
 * signed in (no header), the user of a token it verified before, or undefined (a token to check).
 */
function callerOf(accounts: AccountCache<AuthUser>, authorization: string | undefined): Caller | undefined {
	if (!authorization) return null;
	const token = bearerToken(authorization);
	return token ? accounts.peek(token) : undefined;
}

function clientAddress(req: IncomingMessage): string {
	const forwarded = req.headers["x-forwarded-for"];
	if (gateway.trustProxy && typeof forwarded === "string") return forwarded.split(",")[0].trim();
	return req.socket.remoteAddress ?? "unknown";
}

/** The web console's Content-Security-Policy: its own files, its own API, no framing. */
const WEB_CONSOLE_CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

function sendError(res: ServerResponse, err: Error): void {
	const { status, body } = toErrorResponse(err);
	res.setHeader("Content-Type", "application/json; charset=utf-8");
	res.writeHead(status);
	res.end(JSON.stringify(body));
}

/** GET /api/docs: Swagger UI on the document below. */
function sendDocsPage(_req: IncomingRequest, res: ServerResponse): void {
	res.setHeader("Content-Type", "text/html; charset=utf-8");
	res.setHeader("Content-Security-Policy", DOCS_CSP);
	res.setHeader("X-Content-Type-Options", "nosniff");
	res.end(docsPage("/api/docs"));
}

/** GET /api/docs/<file>: the page's scripts and styles, from the swagger-ui-dist package. */
function sendDocsAsset(req: IncomingRequest, res: ServerResponse): void {
	const name = (req.$params as { file?: string }).file ?? "";
	const asset = docsAsset(name, "/api/openapi.json");
	if (!asset) return sendError(res, new NotFoundError("File", name));
	res.setHeader("Content-Type", asset.contentType);
	res.setHeader("X-Content-Type-Options", "nosniff");
	res.setHeader("Cache-Control", "public, max-age=3600");
	if ("text" in asset) res.end(asset.text);
	else createReadStream(asset.file).pipe(res);
}

const bodyParsers = { json: { limit: gateway.bodyLimit }, urlencoded: false };

/** The JSON and ETag of cached answers, built once per answer (src/gateway/encoded-answers.ts). */
const answers = new EncodedAnswers();

/** moleculer-web logs every request and answer at debug level; below it, its routes do not even build those lines. */
const logRequests = ["debug", "trace"].includes(config.broker.logLevel);

const apiRoute = {
	path: "/api",
	autoAliases: true,
	mappingPolicy: "restrict" as const,
	bodyParsers,
	authentication: true,
	authorization: true,
	logging: logRequests,
	// Weak ETags: a client that polls with If-None-Match gets 304 while nothing changed.
	etag: (body: string | Buffer) => answers.etag(body),
	// The only headers the services see: the Idempotency-Key of order creation.
	onBeforeCall(ctx: Context<unknown, Meta>, _route: unknown, req: IncomingRequest) {
		ctx.meta.headers = { "idempotency-key": req.headers["idempotency-key"] as string | undefined };
	},
	// A read of a cached action is kept whole for the next caller it may go to (keepResponse).
	onAfterCall(this: GatewayThis, ctx: Context<unknown, Meta>, _route: unknown, req: CacheableRequest, _res: ServerResponse, data: unknown) {
		this.keepResponse(ctx, req, data);
		return data;
	},
};

type RoutedAction = { rest?: unknown; visibility?: string };

/** An action the gateway builds a route for: it has `rest` and is published. */
const isRouted = (action: RoutedAction) => Boolean(action.rest) && (action.visibility ?? "published") === "published";

/** What the gateway's methods use: moleculer-web's alias list and error sender, and its own. */
type GatewayMethods = {
	unroutedServices(): string[];
	sendError(req: IncomingRequest, res: ServerResponse, err: Error): void;
	limitPasswordChecks(req: IncomingRequest, user: AuthUser): Promise<void>;
	keepResponse(ctx: Context<unknown, Meta>, req: CacheableRequest, data: unknown): void;
	sendCachedResponse(req: IncomingMessage, res: ServerResponse, cached: CachedResponse): void;
};

/** A request whose answer the response cache may keep: its URL as it came (moleculer-web rewrites `url`), and the generation its call began in. */
type CacheableRequest = IncomingRequest & { $responseCache?: { url: string; since: number } };

type HttpHandler = (req: IncomingMessage, res: ServerResponse, next?: unknown) => Promise<void>;

/** moleculer-web's own request handler, which the gateway's puts the response cache in front of. */
const routeRequest = (ApiGateway.methods as unknown as { httpHandler: HttpHandler }).httpHandler;

/** moleculer-web's test of a conditional GET (If-None-Match against the answer's ETag), as its own answers get. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { isFresh } = require("moleculer-web/src/utils") as { isFresh(req: IncomingMessage, res: ServerResponse): boolean };

/** At most this much JSON in the gateway's kept answers, however many pages of long descriptions they are. */
const RESPONSE_CACHE_BYTES = 32 * 1024 * 1024;

/** How long the gateway keeps a whole answer, and how many: as long and as many as a node keeps answers near. */
const responseCacheOptions = () => {
	const { cacher, cacheNearTtlSeconds, cacheMaxEntries } = config.broker;
	return cacher && cacheNearTtlSeconds > 0 ? { maxEntries: cacheMaxEntries, maxBytes: RESPONSE_CACHE_BYTES, ttlMs: cacheNearTtlSeconds * 1000 } : null;
};

/** One of moleculer-web's aliases, with the options of the route it belongs to. */
type GatewayAlias = {
	action?: string | null;
	method: string;
	fullPath: string;
	route: { opts: { authentication?: unknown; rateLimit?: unknown; etag?: unknown } };
	isMethod(method: string): boolean;
	match(url: string): unknown;
};

type GatewayVars = {
	aliases: GatewayAlias[];
	passwordChecks: InstanceType<RateLimitStoreClass>;
	/** Accounts behind the tokens seen lately (src/gateway/account-cache.ts). */
	accounts: AccountCache<AuthUser>;
	/** The routes each service had when the gateway last built them for it: a path of a service that has gone answers 503. */
	knownRoutes: Map<string, GatewayAlias[]>;
	/** Whole answers of reads of cached actions, everyone's and each user's own (src/gateway/response-cache.ts); null without a cacher. */
	responses: ResponseCache | null;
};

type GatewayThis = GatewayMethods & GatewayVars & { broker: ServiceBroker };

const ApiService: ServiceSchema<ApiSettingsSchema, GatewayMethods, GatewayVars> = {
	name: "api",
	// The answers of cached actions (products, the current user) are kept near (mixins/near-cached-calls.mixin.ts).
	mixins: [ApiGateway, NearCachedCalls],

	settings: {
		port: gateway.port,
		ip: "0.0.0.0",

		// (moleculer-web also takes a function here; its typings list only the object form.)
		rootCallOptions: ((options: { requestID?: string }, req: IncomingMessage) => {
			options.requestID = requestIdOf(req);
		}) as unknown as ApiSettingsSchema["rootCallOptions"],

		cors: gateway.corsOrigins.length
			? {
					origin: gateway.corsOrigins,
					methods: ["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
					allowedHeaders: ["Content-Type", "Authorization", "Idempotency-Key", "X-Request-ID"],
					exposedHeaders: ["X-Request-ID"],
					maxAge: 600,
				}
			: undefined,

		routes: [
			{
				...apiRoute,
				name: "credentials",
				whitelist: CREDENTIAL_ACTIONS,
				authentication: false,
				authorization: false,
				rateLimit: {
					window: gateway.authRateWindow,
					limit: gateway.authRateLimit,
					headers: true,
					key: (req: IncomingMessage) => `auth:${clientAddress(req)}`,
					StoreFactory: RateLimitStore,
				},
			},
			{ ...apiRoute, name: "api", blacklist: CREDENTIAL_ACTIONS },
			{
				// The API's contract: generated from the routes above, and a page to try it.
				path: "/api",
				name: "docs",
				mappingPolicy: "restrict",
				logging: logRequests,
				bodyParsers: false,
				aliases: { "GET openapi.json": "api.openapi", "GET docs": sendDocsPage, "GET docs/:file": sendDocsAsset },
			},
			{
				path: "/",
				name: "probes",
				mappingPolicy: "restrict",
				logging: logRequests,
				bodyParsers: false,
				aliases: { "GET health": "api.health", "GET ready": "api.ready" },
			},
		],

		// The web console (web/), built into config.gateway.webDir; whatever no route matches.
		// It keeps a token in the browser, so it may run its own script only, and talk only to this origin.
		assets: {
			folder: gateway.webDir,
			options: {
				index: "index.html",
				maxAge: 0,
				setHeaders(res: ServerResponse) {
					res.setHeader("Content-Security-Policy", WEB_CONSOLE_CSP);
					res.setHeader("X-Content-Type-Options", "nosniff");
					res.setHeader("Referrer-Policy", "no-referrer");
				},
			},
		},

		logRequest: "debug",
		logResponse: "debug",
		// Bodies carry passwords and card numbers: never log them, at any level.
		logRequestParams: null,
		logResponseData: null,
		log4XXResponses: false,

		onError(this: { logger: { error(...args: unknown[]): void } }, req: IncomingRequest, res: ServerResponse, err: Error) {
			// A gateway that cannot route yet is expected at start; the client is told to retry.
			if (toErrorResponse(err).status >= 500 && errorType(err) !== "GATEWAY_NOT_READY")
				this.logger.error(`${req.method} ${req.originalUrl ?? req.url} failed:`, err);
			sendError(res, err);
		},
	},

	actions: {
		// moleculer-web's route list: for the operators (REPL, tests), never over HTTP.
		listAliases: { visibility: "public" },

		/** The OpenAPI 3.1 document of the routes this gateway has now, from moleculer-web's alias list. */
		openapi: {
			async handler() {
				const aliases = (await this.actions.listAliases({ withActionSchema: true })) as ListedAlias[];
				// What each alias's gateway route adds: listAliases names the route's path only, and two routes share /api.
				const traits = new Map(
					this.aliases.map(a => [
						`${a.method} ${a.fullPath}`,
						{ authenticates: Boolean(a.route.opts.authentication), rateLimited: Boolean(a.route.opts.rateLimit), etag: Boolean(a.route.opts.etag) },
					]),
				);
				const routes = routesFromAliases(aliases, alias => traits.get(`${alias.methods} ${alias.fullPath}`) ?? {});
				return buildOpenApiDocument(routes, ACTION_DOCS, {
					title: "Moleculer shop",
					version: "1",
					description: "The shop's HTTP API. Routes come from the services' actions; sign in with `POST /api/auth/login` and send the token as a bearer token.",
				});
			},
		},

		/** Liveness: the process answers. */
		health: {
			handler() {
				return { status: "ok", nodeID: this.broker.nodeID, uptime: Math.round(process.uptime()) };
			},
		},

		/**
		 * Readiness: the broker is started, every service the gateway needs has an instance,
		 * and the routes of every service it can see are built (so a 404 means "no such route").
		 */
		ready: {
			handler(ctx: AppContext) {
				const missing = this.unroutedServices();
				const ready = this.broker.started && missing.length === 0;
				if (!ready) ctx.meta.$statusCode = 503;
				return { status: ready ? "ready" : "not ready", missing };
			},
		},
	},

	methods: {
		/**
		 * Every HTTP request: a GET (no Origin) whose whole answer the gateway keeps, from a
		 * caller it may go to, is answered from it; anything else is routed by moleculer-web.
		 * The caller is nobody without an Authorization header, the account of a token the
		 * gateway verified before (src/gateway/account-cache.ts), or unknown: then moleculer-web
		 * checks the token. A GET with a body is neither answered nor kept: moleculer-web takes
		 * params from the body too, so its answer is not the URL's.
		 */
		httpHandler(this: GatewayThis, req: CacheableRequest, res: ServerResponse, next?: unknown) {
			const { authorization, origin, "content-length": length, "transfer-encoding": encoding } = req.headers;
			if (this.responses && req.method === "GET" && !origin && length === undefined && encoding === undefined) {
				const url = req.url ?? "";
				const caller = callerOf(this.accounts, authorization);
				const cached = caller === undefined ? undefined : this.responses.get(url, caller);
				if (cached) return this.sendCachedResponse(req, res, cached);
				req.$responseCache = { url, since: this.responses.begin() };
			}
			return routeRequest.call(this, req, res, next);
		},

		/**
		 * Keeps the answer of a GET of a cached action, under its cache key, for the callers it
		 * may go to: a plain 200 with a JSON body (no status, headers or type of the action's
		 * own), of a call that no clean overtook.
		 */
		keepResponse(this: GatewayThis, ctx: Context<unknown, Meta>, req: CacheableRequest, data: unknown) {
			const kept = req.$responseCache;
			const { cacher } = this.broker;
			const action = req.$action as { name?: string; auth?: AuthRequirement } | undefined;
			const cache = cacheOptionsOf(action);
			if (!kept || !this.responses || !cacher || !alwaysCached(cache) || !action?.name || typeof data !== "object" || data === null) return;
			const { $statusCode, $responseHeaders, $responseType, $location } = ctx.meta as Record<string, unknown>;
			if ($statusCode !== undefined || $responseHeaders !== undefined || $responseType !== undefined || $location !== undefined) return;
			const owner = cache.keygen || cacher.opts.keygen ? null : ownerOf(cache.keys, ctx.meta.user ?? null);
			if (!owner) return;
			// The key the action's own answer is cached under (as the cacher computes it), which a clean names.
			const cacheKey = cacher.getCacheKey(action as unknown as string, cache, { params: req.$params, meta: ctx.meta } as unknown as Context);
			const json = answers.json(data);
			this.responses.set(kept.url, owner, { json, etag: weakETag(json), cacheKey, auth: action.auth }, kept.since, cache.ttl ? cache.ttl * 1000 : undefined);
		},

		/** A kept answer, as moleculer-web would send it: same headers, 304 to a client that has it. */
		sendCachedResponse(this: GatewayThis, req: IncomingMessage, res: ServerResponse, cached: CachedResponse) {
			res.setHeader("X-Request-ID", requestIdOf(req));
			res.setHeader("Content-Type", "application/json; charset=utf-8");
			res.setHeader("ETag", cached.etag);
			countCachedResponse(this.broker, actionOf(cached.cacheKey));
			if (isFresh(req, res)) {
				res.statusCode = 304;
				res.removeHeader("Content-Type");
				res.end();
			} else res.end(cached.json);
		},

		/** moleculer-web's JSON of an answer, once per answer object. */
		encodeResponse(_req: IncomingRequest, _res: ServerResponse, data: unknown): string {
			return answers.json(data);
		},

		/**
		 * The services the gateway cannot route to yet: required ones with no instance, and
		 * any it can see whose routes it has not built yet (it builds them a moment after a
		 * service appears).
		 */
		unroutedServices(this: GatewayThis): string[] {
			const routed = new Set(this.aliases.map(alias => alias.action?.split(".")[0]));
			const withRoutes = this.broker.registry
				.getServiceList({ onlyAvailable: true, skipInternal: true, withActions: true })
				.filter(service => Object.values((service as { actions?: Record<string, RoutedAction> }).actions ?? {}).some(isRouted))
				.map(service => service.name);
			return [...new Set([...gateway.requiredServices, ...withRoutes])].filter(name => !routed.has(name));
		},

		/**
		 * No route matched: a 404, unless the gateway is still building routes, or the path is
		 * one of a service that has no instance right now; then 503 (clients retry that).
		 */
		send404(this: GatewayThis, req: IncomingRequest, res: ServerResponse) {
			const url = (req as { parsedUrl?: string }).parsedUrl ?? req.url ?? "";
			const gone = [...this.knownRoutes].find(
				([service, aliases]) =>
					!this.aliases.some(a => a.action?.startsWith(`${service}.`)) && aliases.some(a => a.isMethod(req.method ?? "GET") && a.match(url)),
			);
			if (gone) {
				res.setHeader("Retry-After", "1");
				return this.sendError(
					req,
					res,
					new Errors.MoleculerRetryableError(`The ${gone[0]} service is not available; try again shortly`, 503, "SERVICE_UNAVAILABLE", { service: gone[0] }),
				);
			}
			const unrouted = this.unroutedServices();
			if (unrouted.length === 0) return this.sendError(req, res, new WebErrors.NotFoundError("NOT_FOUND", null));
			res.setHeader("Retry-After", "1");
			this.sendError(
				req,
				res,
				new Errors.MoleculerRetryableError("The gateway cannot route this yet; try again shortly", 503, "GATEWAY_NOT_READY", { unrouted }),
			);
		},

		/** The user of the bearer token, or null without one; a bad or expired token is a 401. */
		async authenticate(ctx: AppContext, _route: unknown, req: IncomingRequest): Promise<AuthUser | null> {
			const header = req.headers.authorization;
			if (!header) return null;
			const token = bearerToken(header);
			if (!token) throw new UnauthorizedError("The Authorization header must be 'Bearer <token>'", "INVALID_TOKEN");
			const user = await this.accounts.get(token, async () => {
				const claims = readToken(token, config.auth.jwtSecret);
				const account = claims && (await ctx.call<AuthUser | null, { token: string }>("users.resolveToken", { token }));
				return account ? { value: account, expiresAt: claims.expiresAt } : null;
			});
			if (!user) throw new UnauthorizedError("The token is invalid or has expired", "INVALID_TOKEN");
			return user;
		},

		/** Enforces the `auth` declared on the action being called. */
		async authorize(ctx: AppContext, _route: unknown, req: IncomingRequest) {
			const requirement = (req.$action as { auth?: AuthRequirement } | undefined)?.auth;
			const user = ctx.meta.user ?? null;
			const verdict = authVerdict(requirement, user);
			if (verdict === "unauthorized") throw new UnauthorizedError();
			if (verdict === "forbidden") throw new ForbiddenError("This needs an admin account");
			if (requirement && user) await this.limitPasswordChecks(req, user);
		},

		/** A stolen token must not buy unlimited guesses of the current password: changes are counted per account. */
		async limitPasswordChecks(req: IncomingRequest, user: AuthUser) {
			const action = (req.$action as { name?: string } | undefined)?.name;
			if (!action || !PASSWORD_CHECK_ACTIONS.includes(action) || req.$params?.password === undefined) return;
			const count = await this.passwordChecks.inc(`password:${user.id}`);
			if (count > gateway.passwordCheckLimit) throw new ApiGateway.Errors.RateLimitExceeded("TOO_MANY_PASSWORD_CHECKS");
		},
	},

	events: {
		/** A change of a cached service's data: its answers that the gateway keeps whole go. */
		"cache.clean.*"(this: GatewayThis, ctx: Context<{ match?: unknown } | undefined>) {
			const match = cleanedBy(ctx);
			if (match) this.responses?.clean(match);
		},

		/** A gateway that was cut off from the others may have missed cleans, of answers and of accounts. */
		"$transporter.connected"(this: GatewayThis) {
			this.responses?.clear();
			this.accounts.clear();
		},

		/** A service came or went: a path of one that has gone answers 503 at once, not what was kept of it. */
		"$services.changed"(this: GatewayThis) {
			this.responses?.clear();
		},

		/** A user changed (password, role, name, removal): forget every account read before. */
		"cache.clean.users"() {
			this.accounts.clear();
		},

		/** moleculer-web built its routes again: remember each service's, for when a service is gone. */
		"$api.aliases.regenerated"() {
			const current = new Map<string, GatewayAlias[]>();
			for (const alias of this.aliases) {
				const service = alias.action?.split(".")[0];
				if (service) current.set(service, [...(current.get(service) ?? []), alias]);
			}
			// A service with routes now replaces what was known of it; one without keeps its last routes.
			for (const [service, aliases] of current) this.knownRoutes.set(service, aliases);
		},
	},

	created() {
		this.passwordChecks = new RateLimitStore(gateway.authRateWindow, { limit: gateway.passwordCheckLimit }, this.broker);
		this.knownRoutes = new Map();
		this.accounts = new AccountCache(ACCOUNT_CACHE_MS, ACCOUNT_CACHE_ENTRIES);
		const responseCache = responseCacheOptions();
		this.responses = responseCache && new ResponseCache(responseCache);
	},
};

export default ApiService;
