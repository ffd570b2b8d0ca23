/**
 * Carries the request being handled through everything it awaits: its request ID, so that
 * every log line written while handling it names the request (X-Request-ID at the
 * gateway), and its trace span, so that the events it causes continue its trace.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Context, Middleware, Span } from "moleculer";

type Current = { requestID?: string; ctx?: Context };

const storage = new AsyncLocalStorage<Current>();

export function currentRequestID(): string | undefined {
	return storage.getStore()?.requestID;
}

/** Where a trace continues from here: the span of the action being handled, when tracing is on. */
export function currentTraceParent(): { traceId: string; parentId: string } | undefined {
	const span = (storage.getStore()?.ctx as { span?: Span } | undefined)?.span;
	return span?.traceID && span.id ? { traceId: span.traceID, parentId: span.id } : undefined;
}

/** Runs `fn` as part of the request `requestID` (a business event's handler, for one). */
export function runWithRequestID<T>(requestID: string | undefined, fn: () => T): T {
	return requestID ? storage.run({ requestID }, fn) : fn();
}

/** Every context has a requestID; only one given from outside (or inherited) names a request. */
function withRequest<H extends (ctx: Context) => unknown>(next: H): H {
	return ((ctx: Context) => {
		const requestID = ctx.requestID && ctx.requestID !== ctx.id ? ctx.requestID : undefined;
		return storage.run({ requestID, ctx }, () => next(ctx));
	}) as H;
}

export const RequestContextMiddleware: Middleware = {
	name: "RequestContext",
	localAction: next => withRequest(next),
	localEvent: next => withRequest(next),
};
