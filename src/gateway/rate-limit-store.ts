/**
 * Where the gateway counts requests for its rate limits (moleculer-web's `rateLimit`
 * store interface: `inc(key)` and `resetTime`).
 *
 * With a Redis cacher, every gateway instance counts in the same Redis keys, so behind N
 * gateways a client still gets the limit once, not N times. The windows are fixed and
 * aligned to the clock (window number = now / window), so all instances agree on when a
 * window starts without talking to each other. Without Redis, moleculer-web's memory
 * store counts per instance.
 *
 * If Redis does not answer in time, the instance counts in its own memory until it does:
 * the limit loosens to one per instance for a while, and logins keep working.
 */
import { Cachers, type ServiceBroker } from "moleculer";
import ApiGateway, { type RateLimitSettings } from "moleculer-web";
import type Redis from "ioredis";

/** How long a count in Redis may take before the instance counts locally instead. */
const REDIS_TIMEOUT_MS = 500;

export type FixedWindow = { number: number; resetTime: number };

/** The window `now` falls in: its number and when it ends (ms since the epoch). */
export function fixedWindow(now: number, windowMs: number): FixedWindow {
	const number = Math.floor(now / windowMs);
	return { number, resetTime: (number + 1) * windowMs };
}

/** Counts per key and window in one process: the fallback while Redis is unreachable. */
export class LocalWindowCounter {
	private window = -1;
	private readonly hits = new Map<string, number>();

	inc(key: string, window: FixedWindow): number {
		if (window.number !== this.window) {
			this.window = window.number;
			this.hits.clear();
		}
		const count = (this.hits.get(key) ?? 0) + 1;
		this.hits.set(key, count);
		return count;
	}
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_resolve, reject) => {
		timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
	});
	return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The counts of all gateway instances in one Redis: one key per client and window, gone when the window ends. */
export class RedisRateLimitStore {
	resetTime: number;
	private readonly windowMs: number;
	private readonly prefix: string;
	private readonly local = new LocalWindowCounter();
	private warned = false;

	constructor(
		windowMs: number,
		_opts: RateLimitSettings | undefined,
		private readonly broker: ServiceBroker,
	) {
		this.windowMs = windowMs;
		this.prefix = `${broker.namespace || "shop"}-ratelimit`;
		this.resetTime = fixedWindow(Date.now(), windowMs).resetTime;
	}

	private get redis(): Redis {
		return (this.broker.cacher as Cachers.Redis<Redis>).client;
	}

	async inc(key: string): Promise<number> {
		const window = fixedWindow(Date.now(), this.windowMs);
		this.resetTime = window.resetTime;
		const redisKey = `${this.prefix}:${this.windowMs}:${window.number}:${key}`;
		try {
			const replies = await withTimeout(
				this.redis
					.multi()
					.incr(redisKey)
					.pexpireat(redisKey, window.resetTime + 1000)
					.exec(),
				REDIS_TIMEOUT_MS,
			);
			const [error, count] = replies?.[0] ?? [new Error("no reply")];
			if (error) throw error;
			this.warned = false;
			return Number(count);
		} catch (err) {
			if (!this.warned) {
				this.broker.getLogger("rate-limit").warn("Redis did not count a request; this gateway counts in its own memory meanwhile:", String(err));
				this.warned = true;
			}
			return this.local.inc(key, window);
		}
	}
}

export type RateLimitStoreClass = new (
	windowMs: number,
	opts: RateLimitSettings | undefined,
	broker: ServiceBroker,
) => { resetTime: number; inc(key: string): number | Promise<number> };

/** The store class for moleculer-web's `rateLimit.StoreFactory`: Redis when the broker's cacher is Redis, else memory. */
export function rateLimitStoreFor(cacher: string): RateLimitStoreClass {
	return cacher.startsWith("redis://") ? RedisRateLimitStore : ApiGateway.RateLimitStores.MemoryStore;
}
