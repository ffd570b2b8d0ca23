/**
 * The OpenAPI 3.1 document of the gateway, built from its routes: each route is an
 * action with its `rest` path, its `auth` and its `params` rules, as moleculer-web lists
 * them; what an action answers comes from its ActionDoc. No route is listed by hand.
 */
import type { ActionDoc, ActionDocs, HeaderDoc, ResponseDoc } from "./action-doc";
import { isOptional, objectSchema, toJsonSchema, type JsonSchema, type Rule } from "./json-schema";
import { COMPONENT_SCHEMAS, ref } from "./schemas";

/** One route of the gateway: an alias of moleculer-web and the schema of its action. */
export type RoutedAction = {
	/** "GET", "POST", ...; routes of any method ("*") are not documented. */
	method: string;
	/** The full path with moleculer-web's parameters, e.g. "/api/orders/:id". */
	path: string;
	action: string;
	auth?: string;
	params?: Record<string, Rule>;
} & RouteTraits;

/** What the gateway's route (moleculer-web's, not the action) adds to every path on it. */
export type RouteTraits = {
	/** The route reads a bearer token when one is sent (a bad one is a 401, whatever the action). */
	authenticates?: boolean;
	/** The route counts requests per client (429 when over). */
	rateLimited?: boolean;
	/** The route tags answers with an ETag: a GET with If-None-Match gets 304 while the answer is unchanged. */
	etag?: boolean;
};

export type DocumentInfo = { title: string; version: string; description?: string };

type Operation = Record<string, unknown>;

const BODY_METHODS = new Set(["post", "put", "patch"]);
const JSON_TYPE = "application/json";

/** "/api/orders/:id/cancel" -> "/api/orders/{id}/cancel", and the parameter names. */
export function openApiPath(path: string): { path: string; names: string[] } {
	const names: string[] = [];
	const converted = path.replace(/:(\w+)\??/g, (_match, name: string) => {
		names.push(name);
		return `{${name}}`;
	});
	return { path: converted, names };
}

function content(body: JsonSchema): Record<string, unknown> {
	return { [JSON_TYPE]: { schema: body } };
}

function response({ description, body, headers }: ResponseDoc, fallbackBody?: JsonSchema): Record<string, unknown> {
	const schema = body ?? fallbackBody;
	return {
		description,
		...(headers ? { headers: Object.fromEntries(Object.entries(headers).map(([name, h]) => [name, header(h)])) } : {}),
		...(schema ? { content: content(schema) } : {}),
	};
}

function header({ description, schema, required }: HeaderDoc): Record<string, unknown> {
	return { description, schema, ...(required ? { required } : {}) };
}

/** The error answers the gateway can give this route, whatever its action. */
function gatewayErrors(route: RoutedAction, hasPathParams: boolean, hasInput: boolean, hasBody: boolean): Record<number, ResponseDoc> {
	const errors: Record<number, ResponseDoc> = {};
	if (hasBody) {
		errors[400] = { description: "The body is not valid JSON (`INVALID_JSON`)" };
		errors[413] = { description: "The body is too large (`PAYLOAD_TOO_LARGE`)" };
	}
	if (route.auth) errors[401] = { description: "No token, or a token that is invalid or has expired" };
	else if (route.authenticates) errors[401] = { description: "A token was sent and it is invalid or has expired (none is needed here)" };
	if (route.auth === "admin") errors[403] = { description: "This needs an admin account" };
	if (hasPathParams) errors[404] = { description: "Not found (`NOT_FOUND`)" };
	if (hasInput) errors[422] = { description: "A parameter is not valid; `data` lists the fields" };
	if (route.rateLimited) errors[429] = { description: "Too many requests from this client; try again later" };
	errors[500] = { description: "Something went wrong on our side" };
	errors[503] = { description: "A service is unavailable; try again shortly (`SERVICE_UNAVAILABLE`)" };
	errors[504] = { description: "A service did not answer in time (`REQUEST_TIMEOUT`)" };
	return errors;
}

function operation(route: RoutedAction, method: string, names: string[], doc: ActionDoc | undefined): Operation {
	const params = route.params ?? {};
	const fields = Object.entries(params).filter(([name]) => !name.startsWith("$$"));
	const inPath = new Set(names);
	const hasBody = BODY_METHODS.has(method);
	const parameters: Record<string, unknown>[] = names.map(name => ({
		name,
		in: "path",
		required: true,
		schema: (params[name] && toJsonSchema(params[name])) ?? { type: "string" },
	}));
	if (!hasBody) {
		for (const [name, rule] of fields) {
			const schema = toJsonSchema(rule);
			if (inPath.has(name) || !schema) continue;
			parameters.push({ name, in: "query", required: !isOptional(rule), schema });
		}
	}
	const conditional = route.etag === true && method === "get";
	const requestHeaders: Record<string, HeaderDoc> = {
		...doc?.requestHeaders,
		...(conditional ? { "If-None-Match": { description: "The ETag of an answer you have: 304 while it is unchanged", schema: { type: "string" } } } : {}),
	};
	for (const [name, h] of Object.entries(requestHeaders)) {
		parameters.push({ name, in: "header", required: h.required ?? false, description: h.description, schema: h.schema });
	}

	const bodyFields = hasBody ? Object.fromEntries(fields.filter(([name]) => !inPath.has(name))) : {};
	const bodySchema = objectSchema(bodyFields);
	const hasRequestBody = Object.keys(bodyFields).length > 0;
	const hasInput = fields.length > 0 || Object.keys(doc?.requestHeaders ?? {}).length > 0;

	const status = doc?.status ?? 200;
	const successHeaders = {
		...doc?.headers,
		...(conditional ? { ETag: { description: "Identifies this answer, for If-None-Match", schema: { type: "string" } } } : {}),
	};
	const responses: Record<string, unknown> = {
		[status]: response({
			description: doc?.summary ?? "Success",
			body: doc?.body ?? {},
			headers: Object.keys(successHeaders).length ? successHeaders : undefined,
		}),
		...(conditional ? { 304: response({ description: "Not modified: the answer still has the ETag sent in If-None-Match (no body)" }) } : {}),
	};
	const errors = { ...gatewayErrors(route, names.length > 0, hasInput, hasRequestBody), ...doc?.responses };
	for (const [code, answer] of Object.entries(errors)) responses[code] = response(answer, Number(code) >= 400 ? ref("Error") : undefined);

	const [service] = route.action.split(".");
	return {
		operationId: route.action,
		tags: [service],
		summary: doc?.summary ?? route.action,
		...(doc?.description ? { description: doc.description } : {}),
		...(route.auth ? { security: [{ bearerAuth: [] }] } : {}),
		...(parameters.length ? { parameters } : {}),
		...(hasRequestBody ? { requestBody: { required: Array.isArray(bodySchema.required), content: content(bodySchema) } } : {}),
		responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b))),
	};
}

/** The document for these routes; paths and methods sorted, so equal routes give an equal document. */
export function buildOpenApiDocument(routes: RoutedAction[], docs: ActionDocs, info: DocumentInfo): Record<string, unknown> {
	const paths: Record<string, Record<string, Operation>> = {};
	for (const route of routes) {
		const method = route.method.toLowerCase();
		if (method === "*") continue;
		const { path, names } = openApiPath(route.path);
		paths[path] ??= {};
		paths[path][method] = operation(route, method, names, docs[route.action]);
	}
	const sorted = Object.fromEntries(
		Object.keys(paths)
			.sort()
			.map(path => [path, Object.fromEntries(Object.entries(paths[path]).sort(([a], [b]) => a.localeCompare(b)))]),
	);
	return {
		openapi: "3.1.0",
		info,
		paths: sorted,
		components: {
			schemas: COMPONENT_SCHEMAS,
			securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "The `token` of register or login" } },
		},
	};
}

/** One entry of moleculer-web's `listAliases` answer, asked `withActionSchema`. */
export type ListedAlias = {
	actionName?: string | null;
	fullPath: string;
	methods: string;
	action?: { auth?: string; params?: Record<string, Rule> };
};

/**
 * The gateway's routes from its alias list. Not part of the API: aliases that call a
 * function rather than an action, and those whose action has no instance at the moment
 * (its `auth` and `params` are not known; the route answers 503 or 404 until it is back).
 * `traitsOf` tells what the gateway route of an alias adds (token check, rate limit).
 */
export function routesFromAliases(aliases: ListedAlias[], traitsOf: (alias: ListedAlias) => RouteTraits = () => ({})): RoutedAction[] {
	return aliases.flatMap(alias => {
		const { actionName, action, methods, fullPath } = alias;
		return actionName && action ? [{ method: methods, path: fullPath, action: actionName, auth: action.auth, params: action.params, ...traitsOf(alias) }] : [];
	});
}
