/**
 * Checks answers of the gateway against its own OpenAPI document (GET /api/openapi.json):
 * the status must be one the operation lists, and a JSON body must match the schema of
 * that status. The http helper runs every answer of the integration tests through this.
 */
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";

type Operation = { responses: Record<string, { content?: Record<string, { schema: object }> }> };
type Document = { paths: Record<string, Record<string, Operation>>; components: object };
type Route = { pattern: RegExp; literal: boolean; operations: Record<string, Operation> };

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);

const documents = new Map<string, Promise<{ doc: Document; routes: Route[] }>>();
const validators = new Map<string, ValidateFunction>();

async function loadDocument(baseUrl: string): Promise<{ doc: Document; routes: Route[] }> {
	const res = await fetch(`${baseUrl}/api/openapi.json`);
	if (res.status !== 200) throw new Error(`GET /api/openapi.json answered ${res.status}`);
	const doc = (await res.json()) as Document;
	const routes = Object.entries(doc.paths)
		.map(([path, operations]) => ({
			pattern: new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{\w+\}/g, "[^/]+")}$`),
			literal: !path.includes("{"),
			operations,
		}))
		// "/api/users/me" before "/api/users/{id}", as the gateway matches them.
		.sort((a, b) => Number(b.literal) - Number(a.literal));
	return { doc, routes };
}

function document(baseUrl: string, fresh = false) {
	if (fresh || !documents.has(baseUrl)) {
		// A failed load is not kept: the next answer asks again.
		const loading = loadDocument(baseUrl);
		loading.catch(() => documents.delete(baseUrl));
		documents.set(baseUrl, loading);
	}
	return documents.get(baseUrl)!;
}

function findOperation(routes: Route[], method: string, path: string): Operation | undefined {
	return routes.find(route => route.pattern.test(path) && route.operations[method])?.operations[method];
}

/** The gateway's own 404 for a path it has no route for (moleculer-web's NotFoundError), not an action's. */
function isNoRoute(status: number, body: unknown): boolean {
	const error = body as { name?: string; message?: string } | undefined;
	return status === 404 && error?.name === "NotFoundError" && error.message === "Not found";
}

/**
 * Throws when the answer is not what the document says; answers of routes the document
 * does not have (an unknown path, a service that has no instance) are not checked.
 */
export async function checkAgainstContract(baseUrl: string, method: string, url: string, status: number, body: unknown, isJson: boolean): Promise<void> {
	const path = url.split("?")[0];
	const lower = method.toLowerCase();
	const lookup = async (fresh: boolean) => {
		const { doc, routes } = await document(baseUrl, fresh);
		const operation = findOperation(routes, lower, path);
		return { doc, operation, answer: operation?.responses[String(status)] };
	};
	let found = await lookup(false);
	// The gateway's routes follow the services as they come and go: check against its routes of now.
	if (!found.answer) found = await lookup(true);
	const { doc, operation, answer } = found;
	if (!operation) return;
	// The gateway had no route for the path when it answered: a service was leaving or coming back.
	if (!answer && isNoRoute(status, body)) return;
	if (!answer)
		throw new Error(`${method} ${path} answered ${status}, which the OpenAPI document does not list (${Object.keys(operation.responses).join(", ")})`);
	const schema = answer.content?.["application/json"]?.schema;
	if (!schema || !isJson) return;

	// One validator per schema (most are a reference to a component), whatever the path's ids.
	const key = `${baseUrl} ${JSON.stringify(schema)}`;
	let validate = validators.get(key);
	if (!validate) {
		// The schema's references point into the document's components.
		validate = ajv.compile({ ...schema, components: doc.components });
		validators.set(key, validate);
	}
	if (!validate(body)) {
		throw new Error(
			`${method} ${path} answered ${status} with a body that does not match the OpenAPI document: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`,
		);
	}
}
