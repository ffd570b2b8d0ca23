/**
 * The gateway's response cache: whole HTTP answers of anonymous GETs of cached actions (a
 * product, a page of the catalog), kept by URL and sent again without a call. A hot product
 * read then costs the gateway what node:http costs, not a context, a pipeline of
 * middlewares and a call for each request.
 *
 * Each answer is kept under the cache key of the action's own answer, and goes when that one
 * does: the `cache.clean.<service>` broadcast that every change sends names those keys (or
 * patterns of them), and the gateway hears it (services/api.service.ts). The rules are the
 * near cache's (src/cache/near-cacher.ts): an answer whose call began before a clean is not
 * kept (it may be the answer as it was before the change), an answer lives at most
 * `ttlMs` (which bounds how stale a gateway that missed a clean can be), or its action's own
 * TTL if shorter, and a reconnect to the transporter empties it all.
 */
import { LRUCache } from "lru-cache";
import { Utils } from "moleculer";

/** A kept answer: its body and ETag, and the cache key of the action's answer it came from. */
export type CachedResponse = { json: string; etag: string; cacheKey: string };

/** `maxBytes` bounds the JSON kept (as UTF-16 code units: a string's length), `maxEntries` the answers. */
export type ResponseCacheOptions = { maxEntries: number; maxBytes: number; ttlMs: number; now?: () => number };

/** The action name a cache key starts with (`catalog.get:<id>` is an answer of `catalog.get`). */
export const actionOf = (cacheKey: string) => cacheKey.split(":", 1)[0];

export class ResponseCache {
	private readonly entries: LRUCache<string, CachedResponse>;
	/** URLs by the cache key of their answer, and by action: a clean finds them without a scan. */
	private readonly byKey = new Map<string, Set<string>>();
	private readonly byAction = new Map<string, Set<string>>();
	/** Bumped by every clean: an answer whose call saw another generation began before it. */
	private generation = 0;

	constructor({ maxEntries, maxBytes, ttlMs, now }: ResponseCacheOptions) {
		this.entries = new LRUCache({
			max: maxEntries,
			maxSize: maxBytes,
			sizeCalculation: (entry, url) => entry.json.length + url.length,
			ttl: ttlMs,
			...(now ? { perf: { now }, ttlResolution: 0 } : {}),
			dispose: (entry, url) => this.unindex(url, entry),
		});
	}

	get(url: string): CachedResponse | undefined {
		return this.entries.get(url);
	}

	/** Where a call begins: what `set` wants to know that no clean came meanwhile. */
	begin(): number {
		return this.generation;
	}

	/**
	 * Keeps the answer of `url`, unless a clean came since `since` (begin()); no longer than
	 * `ttlMs` when the action's own answer lives shorter than the cache's entries.
	 */
	set(url: string, response: CachedResponse, since: number, ttlMs?: number): void {
		if (since !== this.generation) return;
		this.entries.set(url, response, ttlMs !== undefined && ttlMs < this.entries.ttl ? { ttl: ttlMs } : undefined);
		// (An answer larger than the whole bound is not kept.)
		if (!this.entries.has(url)) return;
		this.index(this.byKey, response.cacheKey, url);
		this.index(this.byAction, actionOf(response.cacheKey), url);
	}

	/** Drops the answers whose cache key is one of `match` or matches one of its patterns (`catalog.list**`). */
	clean(match: readonly string[]): void {
		this.generation++;
		for (const pattern of match) {
			if (!/[*?]/.test(pattern)) {
				for (const url of [...(this.byKey.get(pattern) ?? [])]) this.entries.delete(url);
				continue;
			}
			// Only an action whose keys can start with the pattern's literal beginning has any to clean.
			const literal = pattern.slice(0, pattern.search(/[*?]/));
			for (const [action, urls] of [...this.byAction]) {
				if (!literal.startsWith(`${action}:`) && !`${action}:`.startsWith(literal)) continue;
				for (const url of [...urls]) {
					const entry = this.entries.peek(url);
					if (entry && Utils.match(entry.cacheKey, pattern)) this.entries.delete(url);
				}
			}
		}
	}

	clear(): void {
		this.generation++;
		this.entries.clear();
	}

	get size(): number {
		return this.entries.size;
	}

	private index(index: Map<string, Set<string>>, key: string, url: string): void {
		const urls = index.get(key);
		if (urls) urls.add(url);
		else index.set(key, new Set([url]));
	}

	private unindex(url: string, entry: CachedResponse): void {
		for (const [index, key] of [
			[this.byKey, entry.cacheKey],
			[this.byAction, actionOf(entry.cacheKey)],
		] as const) {
			const urls = index.get(key);
			urls?.delete(url);
			if (urls?.size === 0) index.delete(key);
		}
	}
}
