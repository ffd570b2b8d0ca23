/**
 * The few errors the services throw on purpose. Each carries its HTTP status as `code`,
 * which the gateway sends as the response status; Moleculer keeps name, code, type and
 * data when an error crosses the network.
 */
import { Errors } from "moleculer";

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
