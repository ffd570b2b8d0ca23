/**
 * The `cache.clean.<service>` broadcast that the db mixin sends after every change of a
 * cached service (mixins/db.mixin.ts), and that every node's cache hears: what it carries,
 * and what a receiver cleans.
 */

/** The cache keys and patterns of the service's answers that the change touched. */
export type CacheCleanPayload = { match: string[] };

/** The keys and patterns a clean names; every answer of the service when it names none (a retry, an older sender). */
export function answersCleaned(payload: { match?: unknown } | undefined, service: string): string[] {
	const match = payload?.match;
	return Array.isArray(match) && match.every(m => typeof m === "string") ? match : [`${service}.**`];
}
