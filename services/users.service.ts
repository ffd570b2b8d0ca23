/**
 * users: accounts, password hashes, tokens and roles. Nothing that leaves this service
 * carries a password or its hash.
 */
import type { ServiceSchema } from "moleculer";
import { DbMixin, type DbMethods } from "../mixins/db.mixin";
import { hashPassword, passwordProblem, verifyPassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, dummyHash } from "../src/auth/passwords";
import { issueToken, readToken } from "../src/auth/tokens";
import { config } from "../src/config";
import { ConflictError, InvalidInputError, NotFoundError, UnauthorizedError } from "../src/errors";
import { DurableEvents, type DurableEventsMethods } from "../mixins/durable-events.mixin";
import { outboxOnInsert } from "../src/durable-events/outbox";
import { newEvent } from "../src/events";
import { mapPage, pageParams, type PageRequest } from "../src/pagination";
import { idRule } from "../src/params";
import type { AppContext, AuthUser, NoVars, Role } from "../src/types";
import { normalizeEmail, publicUser, type Account, type PublicUser } from "../src/users/accounts";

type UsersMethods = DbMethods & {
	/** Stores a new account; a registration records user.registered in the same write. */
	createAccount(fields: { email: string; password: string; name: string; role: Role }, announce: boolean): Promise<Account>;
	tokenFor(account: Account): string;
	currentAccount(ctx: AppContext): Promise<Account>;
	tokenHolder(id: string): Promise<TokenHolder | null>;
	seedAdmin(): Promise<void>;
};

/** The user a token may stand for, with the password version its token must carry. */
type TokenHolder = AuthUser & { passwordVersion: number };

type OrderStats = { orderCount: number; totalSpent: Record<string, number>; recentOrders: unknown[] };

const passwordRule = { type: "string", min: PASSWORD_MIN_LENGTH, max: PASSWORD_MAX_LENGTH } as const;

type Methods = UsersMethods & DurableEventsMethods;

const UsersService: ServiceSchema<{ rest: string }, Methods, NoVars> = {
	name: "users",

	mixins: [
		DurableEvents,
		DbMixin({
			collection: "users",
			cached: true,
			fields: {
				email: { type: String, required: true },
				name: { type: String, required: true },
				role: { type: String, required: true },
				passwordHash: { type: String, required: true },
				passwordVersion: { type: Number, default: 0 },
				createdAt: { type: String, required: true },
				updatedAt: { type: String, required: true },
			},
			indexes: [{ fields: { email: 1 }, unique: true }],
			outbox: true,
		}),
	],

	settings: {
		// Routes below are written in full (/auth/..., /users/...) under the gateway's /api.
		rest: "/",
	},

	actions: {
		register: {
			rest: "POST /auth/register",
			params: {
				// normalize: trimmed and lower-cased before it is checked.
				email: { type: "email", normalize: true, max: 254 },
				password: passwordRule,
				name: { type: "string", trim: true, min: 1, max: 100 },
			},
			async handler(ctx: AppContext<{ email: string; password: string; name: string }>) {
				const account = await this.createAccount({ ...ctx.params, role: "customer" }, true);
				const user = publicUser(account);
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = "/api/users/me";
				return { user, token: this.tokenFor(account) };
			},
		},

		login: {
			rest: "POST /auth/login",
			params: {
				email: { type: "string", max: 254 },
				password: { type: "string", max: PASSWORD_MAX_LENGTH },
			},
			async handler(ctx: AppContext<{ email: string; password: string }>) {
				const account = await this.findEntity<Account>({ email: normalizeEmail(ctx.params.email) });
				// An unknown email costs the same time and gets the same answer as a wrong password.
				const valid = await verifyPassword(ctx.params.password, account?.passwordHash ?? (await dummyHash()));
				if (!account || !valid) throw new UnauthorizedError("Wrong email or password", "INVALID_CREDENTIALS");
				return { user: publicUser(account), token: this.tokenFor(account) };
			},
		},

		/** The user a bearer token stands for, or null. Called by the gateway on every authenticated request. */
		resolveToken: {
			visibility: "public",
			params: { token: { type: "string", max: 4096 } },
			async handler(ctx: AppContext<{ token: string }>): Promise<AuthUser | null> {
				// The signature and expiry are checked on every call; the account comes from the cache.
				const claims = readToken(ctx.params.token, config.auth.jwtSecret);
				if (!claims) return null;
				const holder = await this.tokenHolder(claims.sub);
				if (!holder || holder.passwordVersion !== claims.pv) return null;
				const { passwordVersion: _pv, ...user } = holder;
				return user;
			},
		},

		me: {
			rest: "GET /users/me",
			auth: "required",
			retryPolicy: { enabled: true },
			// Per caller; every change of a user cleans the service's cache on every node.
			cache: { keys: ["#user.id"] },
			async handler(ctx: AppContext): Promise<PublicUser> {
				return publicUser(await this.currentAccount(ctx));
			},
		},

		update: {
			rest: "PATCH /users/me",
			auth: "required",
			params: {
				name: { type: "string", trim: true, min: 1, max: 100, optional: true },
				password: { ...passwordRule, optional: true },
				// Changing the password needs the current one: a stolen token alone cannot take the account.
				currentPassword: { type: "string", max: PASSWORD_MAX_LENGTH, optional: true },
			},
			async handler(ctx: AppContext<{ name?: string; password?: string; currentPassword?: string }>): Promise<PublicUser> {
				const account = await this.currentAccount(ctx);
				const { name, password, currentPassword } = ctx.params;
				const changes: Partial<Account> = {};
				if (name !== undefined) changes.name = name;
				if (password !== undefined) {
					const problem = passwordProblem(password);
					if (problem) throw new InvalidInputError(problem, [{ field: "password", message: problem }]);
					if (!currentPassword || !(await verifyPassword(currentPassword, account.passwordHash))) {
						throw new InvalidInputError("The current password is needed to set a new one", [
							{ field: "currentPassword", message: "The current password is missing or wrong" },
						]);
					}
					changes.passwordHash = await hashPassword(password);
				}
				if (Object.keys(changes).length === 0) return publicUser(account);
				changes.updatedAt = new Date().toISOString();
				// A new password ends every session: tokens of the old version no longer resolve.
				const bump = changes.passwordHash ? { $inc: { passwordVersion: 1 } } : {};
				const saved = await this.updateEntityById<Account>(account._id, { $set: changes, ...bump });
				if (!saved) throw new NotFoundError("User", account._id);
				return publicUser(saved);
			},
		},

		/** The user with what they bought and paid: gathered from orders and payments. */
		summary: {
			rest: "GET /users/me/summary",
			auth: "required",
			retryPolicy: { enabled: true },
			async handler(ctx: AppContext) {
				const account = await this.currentAccount(ctx);
				const [orders, recentPayments] = await Promise.all([
					ctx.call<OrderStats, { userId: string; recent: number }>("orders.statsForUser", { userId: account._id, recent: 5 }),
					ctx.call<unknown[], { userId: string; limit: number }>("payments.listForUser", { userId: account._id, limit: 5 }),
				]);
				return { user: publicUser(account), ...orders, recentPayments };
			},
		},

		/** Everyone to write to, a page at a time (for promotions); [] past the last page. */
		recipients: {
			visibility: "public",
			retryPolicy: { enabled: true },
			params: {
				page: { type: "number", integer: true, min: 1, default: 1 },
				pageSize: { type: "number", integer: true, min: 1, max: 1000, default: 100 },
			},
			async handler(ctx: AppContext<{ page: number; pageSize: number }>) {
				const { page, pageSize } = ctx.params;
				const accounts = await this.findEntities<Account>({ query: {}, sort: ["createdAt", "_id"], limit: pageSize, offset: (page - 1) * pageSize });
				return accounts.map(({ _id, email, name }) => ({ id: _id, email, name }));
			},
		},

		list: {
			rest: "GET /users",
			auth: "admin",
			retryPolicy: { enabled: true },
			params: { ...pageParams },
			async handler(ctx: AppContext<PageRequest>) {
				return mapPage(await this.findPage<Account>({}, ["createdAt", "_id"], ctx.params), publicUser);
			},
		},

		get: {
			rest: "GET /users/:id",
			auth: "admin",
			retryPolicy: { enabled: true },
			// Cleaned on every node when any account changes (db mixin).
			cache: { keys: ["id"] },
			params: { id: idRule },
			async handler(ctx: AppContext<{ id: string }>): Promise<PublicUser> {
				const account = await this.findEntityById<Account>(ctx.params.id);
				if (!account) throw new NotFoundError("User", ctx.params.id);
				return publicUser(account);
			},
		},
	},

	methods: {
		async createAccount({ email, password, name, role }, announce) {
			const problem = passwordProblem(password);
			if (problem) throw new InvalidInputError(problem, [{ field: "password", message: problem }]);
			const normalized = normalizeEmail(email);
			const taken = () => new ConflictError("An account with this email already exists", "EMAIL_TAKEN");
			if (await this.findEntity({ email: normalized })) throw taken();
			const now = new Date().toISOString();
			const _id = this.newId();
			const registered = announce ? [newEvent("user.registered", { userId: _id, email: normalized, name })] : [];
			const account = await this.insertEntityIfNew<Account>({
				_id,
				email: normalized,
				name,
				role,
				passwordHash: await hashPassword(password),
				createdAt: now,
				updatedAt: now,
				...outboxOnInsert(registered),
			});
			// Two registrations of one email at the same moment: the unique index decides.
			if (!account) throw taken();
			this.relayOwed(account);
			return account;
		},

		tokenFor(account) {
			return issueToken(
				{ sub: account._id, role: account.role, pv: account.passwordVersion ?? 0 },
				{ secret: config.auth.jwtSecret, expiresIn: config.auth.tokenTtl },
			);
		},

		/**
		 * What a token check needs of an account, from the cache when it can: every change of
		 * a user (password, role, name) cleans the service's cache on every node (db mixin).
		 */
		async tokenHolder(id) {
			const key = `users.tokenHolder:${id}`;
			const cacher = this.broker.cacher;
			const cached = (await cacher?.get(key)) as TokenHolder | null | undefined;
			if (cached) return cached;
			const account = await this.findEntityById<Account>(id);
			if (!account) return null;
			const { email, name, role } = publicUser(account);
			const holder: TokenHolder = { id, email, name, role, passwordVersion: account.passwordVersion ?? 0 };
			await cacher?.set(key, holder);
			return holder;
		},

		async currentAccount(ctx) {
			const userId = ctx.meta.user?.id;
			if (!userId) throw new UnauthorizedError();
			const account = await this.findEntityById<Account>(userId);
			if (!account) throw new UnauthorizedError("This account no longer exists");
			return account;
		},

		/** One admin from ADMIN_EMAIL and ADMIN_PASSWORD, created at the first start only. */
		async seedAdmin() {
			const { adminEmail, adminPassword } = config.auth;
			if (!adminEmail || !adminPassword) return;
			if (await this.findEntity({ email: normalizeEmail(adminEmail) })) return;
			try {
				await this.createAccount({ email: adminEmail, password: adminPassword, name: "Administrator", role: "admin" }, false);
				this.logger.info(`Seeded the admin account ${normalizeEmail(adminEmail)}`);
			} catch (err) {
				// Another instance seeded it at the same time.
				if (!(err instanceof ConflictError)) throw err;
			}
		},
	},

	created() {
		if (config.auth.jwtSecretIsDefault) {
			if (config.isProduction) throw new Error("JWT_SECRET must be set when NODE_ENV=production");
			if (!config.isTest) this.logger.warn("JWT_SECRET is not set: tokens are signed with a development secret.");
		}
	},

	async started() {
		await this.seedAdmin();
	},
};

export default UsersService;
