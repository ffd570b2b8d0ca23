/**
 * How an error becomes an HTTP response: the status from the error's code, a JSON body
 * `{ name, message, code, type, data }`, and never a stack trace. Errors that are not the
 * client's fault answer with a generic message; the details go to the log only.
 */
import { Errors } from "moleculer";

export type ErrorBody = { name: string; message: string; code: number; type?: string; data?: unknown };

/** Errors of HTTP middleware (body-parser) carry `status` (or `code`) and a dotted `type`. */
type HttpishError = Error & { code?: unknown; status?: number; type?: string; data?: unknown };

const BODY_PARSER_ERRORS: Record<string, { name: string; message: string; type: string }> = {
	"entity.too.large": { name: "PayloadTooLargeError", message: "The request body is too large", type: "PAYLOAD_TOO_LARGE" },
	"entity.parse.failed": { name: "BadRequestError", message: "The request body is not valid JSON", type: "INVALID_JSON" },
	"encoding.unsupported": { name: "UnsupportedMediaTypeError", message: "Unsupported content encoding", type: "UNSUPPORTED_ENCODING" },
};

/** Moleculer says 404 for a service that has no instance; for a client that is a 503. */
const UNAVAILABLE_TYPES = new Set(["SERVICE_NOT_FOUND", "SERVICE_NOT_AVAILABLE"]);

/** Validation problems without the offending value: it may be a password or a card number. */
function withoutValues(data: unknown): unknown {
	if (!Array.isArray(data)) return data;
	return data.map(item => {
		if (item === null || typeof item !== "object") return item;
		const { actual, ...rest } = item as Record<string, unknown>;
		return rest;
	});
}

export function toErrorResponse(err: Error): { status: number; body: ErrorBody } {
	const e = err as HttpishError;
	if (typeof e.type === "string" && UNAVAILABLE_TYPES.has(e.type)) {
		return {
			status: 503,
			body: { name: "ServiceUnavailableError", message: "A service is unavailable; try again shortly", code: 503, type: "SERVICE_UNAVAILABLE" },
		};
	}
	const code = typeof e.code === "number" ? e.code : e.status;
	const status = typeof code === "number" && code >= 400 && code < 600 ? code : 500;

	const parserError = typeof e.type === "string" ? BODY_PARSER_ERRORS[e.type] : undefined;
	if (parserError) return { status, body: { ...parserError, code: status } };
	if (status >= 500 && !(err instanceof Errors.MoleculerError)) {
		return { status, body: { name: "InternalServerError", message: "Something went wrong on our side", code: status } };
	}
	return { status, body: { name: e.name, message: e.message, code: status, type: e.type, data: withoutValues(e.data) } };
}
