/**
 * The gateway's response cache: whole HTTP answers of GETs of cached actions (a product, a
 * page of the catalog, the signed-in user's own account), kept by URL and sent again without
 * a call. A hot read then costs the gateway what node:http costs, not a context, a pipeline
 * of middlewares and a call for each request.
 *
 * An answer is everyone's or one user's, as the action's cache keys say (`ownerOf`): a
 * product is the same for every caller, `/users/me` is the caller's own and is kept under
 * their id. Each keeps the action's `auth`, and goes only to a caller it lets in: anyone, a
 * signed-in user, an admin. Who the caller is comes from the gateway's account cache (a
 * token it verified before, src/gateway/account-cache.ts); a token it does not know goes
 * through the gateway's checks.
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
import { authVerdict } from "../auth/caller";
import type { AuthRequirement } from "../types";

/**
 * A kept answer: its body and ETag, the cache key of the action's answer it came from, and
 * who may have it (the action's `auth`: anyone when absent).
 */
export type CachedResponse = { json: string; etag: string; cacheKey: string; auth?: AuthRequirement };

/** `maxBytes` bounds the JSON kept (as UTF-16 code units: a string's length), `maxEntries` the answers. */
export type ResponseCacheOptions = { maxEntries: number; maxBytes: number; ttlMs: number; now?: () => number };

/** The action name a cache key starts with (`catalog.get:<id>` is an answer of `catalog.get`). */
export const actionOf = (cacheKey: string) => cacheKey.split(":", 1)[0];

/** Who is asking: a user the gateway knows (by a token it verified), or nobody signed in. */
export type Caller = { id: string; role: string } | null;

/** Whose an answer is: every caller's, or one user's (by id). */
export type Owner = "everyone" | { user: string };

/**
 * Whose the answer of an action cached under `keys` is: everyone's when the keys name only
 * params (the cacher gives every caller the same answer), the caller's own when they name
 * the caller too (`#user.id`); null when it is not to be kept: keys that name other meta or
 * a header of the call (`@...`), or a caller's own answer with nobody signed in. (An action
 * with a `keygen` of its own is never kept: its keys say nothing.)
 */
export function ownerOf(keys: readonly string[] | undefined, caller: Caller): Owner | null {
	const notParams = (keys ?? []).filter(key => key.startsWith("#") || key.startsWith("@"));
	if (notParams.length === 0) return "everyone";
	if (!caller || notParams.some(key => !key.startsWith("#user."))) return null;
	return { user: caller.id };
}

/** Where an answer is kept: its URL, after its owner's id when it is one user's. */
const entryKey = (url: string, owner: Owner) => (owner === "everyone" ? url : `${owner.user} ${url}`);

export class ResponseCache {
	private readonly entries: LRUCache<string, CachedResponse>;
	/** Entries (see entryKey) by the cache key of their answer, and by action: a clean finds them without a scan. */
	private readonly byKey = new Map<string, Set<string>>();
	private readonly byAction = new Map<string, Set<string>>();
	/** Bumped by every clean: an answer whose call saw another generation began before it. */
	private generation = 0;

	constructor({ maxEntries, maxBytes, ttlMs, now }: ResponseCacheOptions) {
		this.entries = new LRUCache({
			max: maxEntries,
			maxSize: maxBytes,
			sizeCalculation: (entry, key) => entry.json.length + key.length,
			ttl: ttlMs,
			...(now ? { perf: { now }, ttlResolution: 0 } : {}),
			dispose: (entry, key) => this.unindex(key, entry),
		});
	}

	/** The answer kept for `url` that `caller` may have: everyone's, else the caller's own. */
	get(url: string, caller: Caller): CachedResponse | undefined {
		const entry = this.entries.get(url) ?? (caller ? this.entries.get(entryKey(url, { user: caller.id })) : undefined);
		return entry && authVerdict(entry.auth, caller) === "allowed" ? entry : undefined;
	}

	/** Where a call begins: what `set` wants to know that no clean came meanwhile. */
	begin(): number {
		return this.generation;
	}

	/**
	 * Keeps `owner`'s answer of `url`, unless a clean came since `since` (begin()); no longer
	 * than `ttlMs` when the action's own answer lives shorter than the cache's entries.
	 */
	set(url: string, owner: Owner, response: CachedResponse, since: number, ttlMs?: number): void {
		if (since !== this.generation) return;
		const key = entryKey(url, owner);
		this.entries.set(key, response, ttlMs !== undefined && ttlMs < this.entries.ttl ? { ttl: ttlMs } : undefined);
		// (An answer larger than the whole bound is not kept.)
		if (!this.entries.has(key)) return;
		this.index(this.byKey, response.cacheKey, key);
		this.index(this.byAction, actionOf(response.cacheKey), key);
	}

	/** Drops the answers whose cache key is one of `match` or matches one of its patterns (`catalog.list**`). */
	clean(match: readonly string[]): void {
		this.generation++;
		for (const pattern of match) {
			if (!/[*?]/.test(pattern)) {
				for (const key of [...(this.byKey.get(pattern) ?? [])]) this.entries.delete(key);
				continue;
			}
			// Only an action whose keys can start with the pattern's literal beginning has any to clean.
			const literal = pattern.slice(0, pattern.search(/[*?]/));
			for (const [action, keys] of [...this.byAction]) {
				if (!literal.startsWith(`${action}:`) && !`${action}:`.startsWith(literal)) continue;
				for (const key of [...keys]) {
					const entry = this.entries.peek(key);
					if (entry && Utils.match(entry.cacheKey, pattern)) this.entries.delete(key);
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

	private index(index: Map<string, Set<string>>, by: string, key: string): void {
		const keys = index.get(by);
		if (keys) keys.add(key);
		else index.set(by, new Set([key]));
	}

	private unindex(key: string, entry: CachedResponse): void {
		for (const [index, by] of [
			[this.byKey, entry.cacheKey],
			[this.byAction, actionOf(entry.cacheKey)],
		] as const) {
			const keys = index.get(by);
			keys?.delete(key);
			if (keys?.size === 0) index.delete(by);
		}
	}
}
