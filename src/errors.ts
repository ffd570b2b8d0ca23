/**
 * The few errors the services throw on purpose. Each carries its HTTP status as `code`,
 * which the gateway sends as the response status; Moleculer keeps name, code, type and
 * data when an error crosses the network.
 */
import { Errors } from "moleculer";
import type { BusinessEvent } from "./events";

const { MoleculerClientError } = Errors;

export type FieldProblem = { field: string; message: string; type?: string };

/** 422: the request is well-formed but a field is not acceptable. */
export class InvalidInputError extends MoleculerClientError {
	constructor(message: string, fields: FieldProblem[] = []) {
		super(message, 422, "INVALID_INPUT", fields);
		this.name = "ValidationError";
	}
}

/** 401: no credentials, or credentials that are not valid. */
export class UnauthorizedError extends MoleculerClientError {
	constructor(message = "Authentication required", type = "UNAUTHORIZED") {
		super(message, 401, type);
		this.name = "UnauthorizedError";
	}
}

/** 403: authenticated, but not allowed to do this. */
export class ForbiddenError extends MoleculerClientError {
	constructor(message = "You are not allowed to do this") {
		super(message, 403, "FORBIDDEN");
		this.name = "ForbiddenError";
	}
}

/** 404: the entity does not exist (or the caller may not know it exists). */
export class NotFoundError extends MoleculerClientError {
	constructor(entity: string, id?: string) {
		super(`${entity} not found`, 404, "NOT_FOUND", id === undefined ? undefined : { id });
		this.name = "NotFoundError";
	}
}

/** 409: the request conflicts with the current state (duplicate, out of stock, wrong state). */
export class ConflictError extends MoleculerClientError {
	constructor(message: string, type = "CONFLICT", data?: Record<string, unknown>) {
		super(message, 409, type, data);
		this.name = "ConflictError";
	}
}

/** 402: the payment provider declined the card. */
export class PaymentDeclinedError extends MoleculerClientError {
	constructor(message: string, reason: string, data?: Record<string, unknown>) {
		super(message, 402, reason, data);
		this.name = "PaymentDeclinedError";
	}
}

/** 502: the payment provider failed or did not answer. Its own error is not passed on: it may quote the card. */
export class ProviderUnavailableError extends Errors.MoleculerError {
	constructor(message: string, payment: { _id: string; orderId: string }) {
		super(message, 502, "PROVIDER_UNAVAILABLE", { paymentId: payment._id, orderId: payment.orderId });
		this.name = "ProviderUnavailableError";
	}
}

/** An event whose data cannot be counted: thrown before anything is written, so it is retried and then dead-lettered. */
export class MalformedEventError extends Error {
	constructor(event: Pick<BusinessEvent, "id" | "type">, problem: string) {
		super(`Event ${event.id} (${event.type}) cannot be counted: ${problem}`);
		this.name = "MalformedEventError";
	}
}

/** The `type` of an error, also of one that crossed the network as a plain object (Moleculer keeps it). */
export function errorType(err: unknown): string | undefined {
	const type = (err as { type?: unknown } | null)?.type;
	return typeof type === "string" ? type : undefined;
}

/** The status `code` of an error (Moleculer errors carry their HTTP status); 500 when it has none. */
export function errorCode(err: unknown): number {
	const code = (err as { code?: unknown } | null)?.code;
	return typeof code === "number" ? code : 500;
}

/** Errors of a store or bus that is not reachable right now (by name: the drivers' own classes). */
const UNREACHABLE = /^(MongoNetworkError|MongoServerSelectionError|MongoNotConnectedError|MongooseServerSelectionError|MongoNetworkTimeoutError|NatsError)$/;

/**
 * True when the error says "a dependency is unavailable right now", not "this request is
 * wrong": no instance of a service, a timeout, a skipped or rejected call, a 502/503/504,
 * a database or bus that does not answer. Such a call is worth making again later.
 */
export function isUnavailable(err: unknown): boolean {
	const e = err as { retryable?: unknown; name?: unknown; type?: unknown } | null;
	if (!e) return false;
	if (e.retryable === true) return true;
	if (e.type === "REQUEST_SKIPPED") return true;
	if ([502, 503, 504].includes(errorCode(err))) return true;
	return typeof e.name === "string" && UNREACHABLE.test(e.name);
}
