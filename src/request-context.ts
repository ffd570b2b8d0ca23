/**
 * Carries the request ID of the action or event being handled, so that every log line
 * written while handling it names the request (X-Request-ID at the gateway).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Context, Middleware } from "moleculer";

const storage = new AsyncLocalStorage<string>();

export function currentRequestID(): string | undefined {
	return storage.getStore();
}

/** Runs `fn` as part of the request `requestID` (a business event's handler, for one). */
export function runWithRequestID<T>(requestID: string | undefined, fn: () => T): T {
	return requestID ? storage.run(requestID, fn) : fn();
}

/** Every context has a requestID; only one given from outside (or inherited) names a request. */
function withRequestID<H extends (ctx: Context) => unknown>(next: H): H {
	return ((ctx: Context) =>
		ctx.requestID && ctx.requestID !== ctx.id ? storage.run(ctx.requestID, () => next(ctx)) : next(ctx)) as H;
}

export const RequestContextMiddleware: Middleware = {
	name: "RequestContext",
	localAction: next => withRequestID(next),
	localEvent: next => withRequestID(next),
};
