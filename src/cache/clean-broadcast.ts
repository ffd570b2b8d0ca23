/**
 * The `cache.clean.<service>` broadcast that the db mixin sends after every change of a
 * cached service (mixins/db.mixin.ts), and that every node's cache hears: what it carries,
 * and what a receiver cleans.
 */

/** The cache keys and patterns of the service's answers that the change touched. */
export type CacheCleanPayload = { match: string[] };

const CLEAN_PREFIX = "cache.clean.";

/** What a `cache.clean.<service>` event cleans (answersCleaned); null for any other event. */
export function cleanedBy(ctx: { eventName?: string | null; params?: { match?: unknown } }): string[] | null {
	const service = ctx.eventName?.startsWith(CLEAN_PREFIX) ? ctx.eventName.slice(CLEAN_PREFIX.length) : "";
	return service ? answersCleaned(ctx.params, service) : null;
}

/** The keys and patterns a clean names; every answer of the service when it names none (a retry, an older sender). */
export function answersCleaned(payload: { match?: unknown } | undefined, service: string): string[] {
	const match = payload?.match;
	return Array.isArray(match) && match.every(m => typeof m === "string") ? match : [`${service}.**`];
}
