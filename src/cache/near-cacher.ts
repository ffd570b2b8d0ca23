/**
 * The cluster's cacher: Redis, shared by every node, with a small in-process LRU in front of
 * it (a "near cache"), so that a hot cached answer costs no round trip to Redis.
 *
 * Writes go to both layers; a clean empties both on the node that changed the data, and
 * the `cache.clean.<service>` broadcast that the db mixin sends with every change, once Redis
 * is clean, empties the near layer of every other node (`cleanLocal`). A near entry
 * also expires after `nearTtlSeconds`, which bounds how stale a node can be if it missed a
 * broadcast; a reconnect to the transporter empties the near layer too, as Moleculer's
 * in-process cachers do. A Redis read that started before a clean is not kept near: it may
 * have read the answer as it was before the change.
 *
 * A node that hears every service's cleans (the gateway, through
 * mixins/near-cached-calls.mixin.ts) also keeps near the answers of cached actions it calls
 * on other nodes, under the key their own node caches them by: a hot product read then
 * costs the gateway no call at all. The same rules hold for them: cleaned by the broadcast
 * of every change, kept at most `nearTtlSeconds` (or the action's own TTL if shorter), not
 * kept when a clean came while the call was out, never used for a call with
 * `meta.$cache === false`.
 *
 * Cached answers are shared objects on a near hit, as they are with the in-process cacher:
 * handlers never change what they get from a cached action.
 */
import { LRUCache } from "lru-cache";
import { Cachers, METRIC, Utils, type ActionHandler, type ActionSchema, type Context, type ServiceBroker } from "moleculer";
import { alwaysCached, cacheOptionsOf, type CacheOptions } from "./cache-setting";

type RedisCacherOptions = ConstructorParameters<typeof Cachers.Redis>[0];

/** The call to another node (Moleculer's transit request, which needs no `this`). */
type RemoteCall = (ctx: Context) => Promise<unknown>;

export interface NearCacherOptions extends NonNullable<RedisCacherOptions> {
	/** `now`, in milliseconds, is for tests: performance.now() otherwise. */
	near: { maxEntries: number; ttlSeconds: number; now?: () => number };
}

export class NearCacher extends Cachers.Redis {
	private readonly near: LRUCache<string, { value: unknown }>;
	/** Bumped by every clean: a Redis read or a remote call that saw another generation began before it. */
	private generation = 0;
	/** Set once this node hears every service's cleans: only then does it keep other nodes' answers near. */
	keepRemoteAnswers = false;

	constructor(opts: NearCacherOptions) {
		const { near, ...redisOptions } = opts;
		super(redisOptions);
		this.near = new LRUCache({ max: near.maxEntries, ttl: near.ttlSeconds * 1000, ...(near.now ? { perf: { now: near.now }, ttlResolution: 0 } : {}) });
	}

	override init(broker: ServiceBroker): void {
		super.init(broker);
		// A node that was cut off may have missed cleans.
		broker.localBus.on("$transporter.connected", () => this.cleanLocal());
	}

	override async get(key: string): Promise<Record<string, unknown> | null> {
		const hit = this.near.get(key);
		if (hit) {
			this.metrics.increment(METRIC.MOLECULER_CACHER_GET_TOTAL);
			this.metrics.increment(METRIC.MOLECULER_CACHER_FOUND_TOTAL);
			return hit.value as Record<string, unknown>;
		}
		const generation = this.generation;
		const value = await super.get(key);
		if (value !== null && value !== undefined && generation === this.generation) this.near.set(key, { value });
		return value;
	}

	override async set(key: string, data: unknown, ttl?: number): Promise<void> {
		this.setNear(key, data, ttl ?? this.opts.ttl);
		return super.set(key, data, ttl);
	}

	/** An answer that lives shorter than the near layer's entries must not outlive itself here. */
	private setNear(key: string, value: unknown, ttlSeconds: number | undefined): void {
		this.near.set(key, { value }, ttlSeconds && ttlSeconds * 1000 < this.near.ttl ? { ttl: ttlSeconds * 1000 } : undefined);
	}

	/** Moleculer's cacher middleware for the actions of this node, and the near layer for cached actions of other nodes. */
	override middleware() {
		return {
			...super.middleware(),
			remoteAction: (handler: ActionHandler, action: ActionSchema) => {
				const opts = cacheOptionsOf(action);
				// (An `enabled` function decides per call on the action's own node; it never reaches the registry.)
				if (!alwaysCached(opts)) return handler;
				const call = handler as unknown as RemoteCall;
				return ((ctx: Context) =>
					this.keepRemoteAnswers && (ctx.meta as { $cache?: boolean }).$cache !== false ? this.callNear(ctx, action, opts, call) : call(ctx)) as ActionHandler;
			},
		};
	}

	private async callNear(ctx: Context, action: ActionSchema, opts: CacheOptions, call: RemoteCall): Promise<unknown> {
		// (Moleculer takes the action here, as its own middleware passes it; its typings say a name.)
		const key = this.getCacheKey(action as unknown as string, opts, ctx);
		this.metrics.increment(METRIC.MOLECULER_CACHER_GET_TOTAL);
		const hit = this.near.get(key);
		if (hit) {
			this.metrics.increment(METRIC.MOLECULER_CACHER_FOUND_TOTAL);
			(ctx as { cachedResult?: boolean }).cachedResult = true;
			return hit.value;
		}
		const generation = this.generation;
		const value = await call(ctx);
		if (value !== null && value !== undefined && generation === this.generation) this.setNear(key, value, opts.ttl ?? this.opts.ttl);
		return value;
	}

	override async del(keys: string | string[]): Promise<void> {
		for (const key of Array.isArray(keys) ? keys : [keys]) this.near.delete(key);
		return super.del(keys);
	}

	override async clean(match: string | string[] = "**"): Promise<void> {
		this.cleanLocal(match);
		return super.clean(match);
	}

	/** Empties what this node keeps near of the keys that `match` names; Redis stays as it is. */
	cleanLocal(match: string | string[] = "**"): void {
		this.generation++;
		const patterns = Array.isArray(match) ? match : [match];
		for (const key of [...this.near.keys()]) if (patterns.some(pattern => Utils.match(key, pattern))) this.near.delete(key);
	}
}
