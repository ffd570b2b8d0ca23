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

export function toErrorResponse(err: Error): { status: number; body: ErrorBody } {
	const e = err as HttpishError;
	const code = typeof e.code === "number" ? e.code : e.status;
	const status = typeof code === "number" && code >= 400 && code < 600 ? code : 500;

	const parserError = typeof e.type === "string" ? BODY_PARSER_ERRORS[e.type] : undefined;
	if (parserError) return { status, body: { ...parserError, code: status } };
	if (status >= 500 && !(err instanceof Errors.MoleculerError)) {
		return { status, body: { name: "InternalServerError", message: "Something went wrong on our side", code: status } };
	}
	return { status, body: { name: e.name, message: e.message, code: status, type: e.type, data: e.data } };
}
