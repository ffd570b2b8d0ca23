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
 * Cached answers are shared objects on a near hit, as they are with the in-process cacher:
 * handlers never change what they get from a cached action.
 */
import { LRUCache } from "lru-cache";
import { Cachers, METRIC, Utils, type ServiceBroker } from "moleculer";

type RedisCacherOptions = ConstructorParameters<typeof Cachers.Redis>[0];

export interface NearCacherOptions extends NonNullable<RedisCacherOptions> {
	/** `now`, in milliseconds, is for tests: performance.now() otherwise. */
	near: { maxEntries: number; ttlSeconds: number; now?: () => number };
}

export class NearCacher extends Cachers.Redis {
	private readonly near: LRUCache<string, { value: unknown }>;
	/** Bumped by every clean: a Redis read that saw another generation began before it. */
	private generation = 0;

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
		const ttlSeconds = ttl ?? this.opts.ttl;
		// An answer that lives shorter than the near layer's entries must not outlive itself here.
		this.near.set(key, { value: data }, ttlSeconds && ttlSeconds * 1000 < this.near.ttl ? { ttl: ttlSeconds * 1000 } : undefined);
		return super.set(key, data, ttl);
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
