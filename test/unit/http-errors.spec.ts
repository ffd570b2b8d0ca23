import { Errors } from "moleculer";
import { ConflictError, NotFoundError } from "../../src/errors";
import { toErrorResponse } from "../../src/http-errors";

it("answers a client error with its status, name, type and data", () => {
	expect(toErrorResponse(new ConflictError("taken", "EMAIL_TAKEN"))).toEqual({
		status: 409,
		body: { name: "ConflictError", message: "taken", code: 409, type: "EMAIL_TAKEN", data: undefined },
	});
	expect(toErrorResponse(new NotFoundError("User", "42")).body.data).toEqual({ id: "42" });
});

it("hides the message of an unexpected error behind a generic 500", () => {
	const { status, body } = toErrorResponse(new TypeError("Cannot read properties of undefined (reading 'db')"));
	expect(status).toBe(500);
	expect(body.message).not.toMatch(/undefined|db/);
});

it("keeps the status of a Moleculer server error", () => {
	expect(toErrorResponse(new Errors.MoleculerServerError("down", 503, "DOWN")).status).toBe(503);
});

it("answers 503 when a service has no instance, instead of Moleculer's 404", () => {
	expect(toErrorResponse(new Errors.ServiceNotAvailableError({ action: "users.resolveToken" }))).toMatchObject({
		status: 503,
		body: { type: "SERVICE_UNAVAILABLE" },
	});
	expect(toErrorResponse(new Errors.ServiceNotFoundError({ action: "users.resolveToken" })).status).toBe(503);
});

it("never sends back the value that failed validation (it may be a card number)", () => {
	const err = new Errors.ValidationError("Parameters validation error!", "VALIDATION_ERROR", [
		{ type: "string", field: "payment.card.number", message: "must be a string", actual: 4242424242424242 },
	] as unknown as Record<string, unknown>);
	const { status, body } = toErrorResponse(err);
	expect(status).toBe(422);
	expect(body.data).toEqual([{ type: "string", field: "payment.card.number", message: "must be a string" }]);
});

it("maps body-parser errors to 413 and 400", () => {
	const tooLarge = Object.assign(new Error("request entity too large"), { status: 413, type: "entity.too.large" });
	const badJson = Object.assign(new Error("Unexpected token"), { status: 400, type: "entity.parse.failed" });
	expect(toErrorResponse(tooLarge)).toMatchObject({ status: 413, body: { type: "PAYLOAD_TOO_LARGE" } });
	expect(toErrorResponse(badJson)).toMatchObject({ status: 400, body: { type: "INVALID_JSON" } });
});
