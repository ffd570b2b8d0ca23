/**
 * An action's `cache` setting as Moleculer reads it: `true`, or options whose `enabled` may be
 * `false`, or a function that decides per call on the action's own node. The db mixin's clean,
 * the near cacher and the gateway's response cache each need to know which answers an action
 * can have in a cache, and under which keys.
 */
export type CacheOptions = { enabled?: unknown; keys?: string[]; ttl?: number; keygen?: unknown };

/** The action's cache options (`{}` for `cache: true`); null for an action that is never cached. */
export function cacheOptionsOf(action: unknown): CacheOptions | null {
	// (An action can be a bare handler, or `false` for one of moleculer-db's that is removed.)
	const cache = typeof action === "object" && action !== null ? (action as { cache?: unknown }).cache : undefined;
	if (cache === true) return {};
	if (typeof cache !== "object" || cache === null) return null;
	return (cache as CacheOptions).enabled === false ? null : (cache as CacheOptions);
}

/** Cached on every call, not as an `enabled` function decides per call: only such answers may be kept by another node. */
export function alwaysCached(options: CacheOptions | null): options is CacheOptions {
	return options !== null && typeof options.enabled !== "function";
}
