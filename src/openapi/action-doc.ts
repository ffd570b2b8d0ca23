/**
 * What the document says about an action beyond its route, `auth` and `params` (which
 * it reads from the action itself): a summary, its success answer and the answers
 * particular to it. Declared per service in src/openapi/responses/.
 */
import type { JsonSchema } from "./json-schema";

export type HeaderDoc = { description: string; schema: JsonSchema; required?: boolean };

export type ResponseDoc = {
	description: string;
	/** The body; an error status without one answers the shared Error shape. */
	body?: JsonSchema;
	headers?: Record<string, HeaderDoc>;
};

export type ActionDoc = {
	summary: string;
	description?: string;
	/** The success status; 200 unless said. */
	status?: 200 | 201 | 202;
	/** The success body. */
	body: JsonSchema;
	/** Headers of the success answer. */
	headers?: Record<string, HeaderDoc>;
	/** Request headers the action reads. */
	requestHeaders?: Record<string, HeaderDoc>;
	/** Answers particular to this action, by status (errors the gateway gives every route are added for all). */
	responses?: Record<number, ResponseDoc>;
};

/** Action name ("orders.create") -> its documentation. */
export type ActionDocs = Record<string, ActionDoc>;
