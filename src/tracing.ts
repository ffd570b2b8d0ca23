/**
 * What traces may record of a call, for every action and event at once: its params with
 * every secret blanked (passwords, tokens, card details, at any depth), and of its meta
 * only who called. An action cannot forget to hide a field: there is no per-action list.
 */
import type { Context } from "moleculer";

/** Keys whose values never reach a trace, whatever object they are in. */
const SECRET_KEY = /pass(word)?|token|secret|authorization|cookie|card|cvc|cvv|number/i;

export const REDACTED = "[redacted]";

export function redact(value: unknown, depth = 0): unknown {
	if (depth > 8) return REDACTED;
	if (Array.isArray(value)) return value.map(item => redact(item, depth + 1));
	if (value && typeof value === "object") {
		return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, SECRET_KEY.test(key) ? REDACTED : redact(inner, depth + 1)]));
	}
	return value;
}

/** The tags of a span: the params without secrets, and the caller's id and role. */
export function traceTags(ctx: Context): Record<string, unknown> {
	const user = (ctx.meta as { user?: { id?: string; role?: string } | null }).user;
	return { params: redact(ctx.params), ...(user ? { meta: { userId: user.id, role: user.role } } : {}) };
}
