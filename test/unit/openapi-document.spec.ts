import type { ServiceSchema } from "moleculer";
import { buildOpenApiDocument, openApiPath, routesFromAliases, type RoutedAction } from "../../src/openapi/document";
import { ACTION_DOCS } from "../../src/openapi/responses";
import { ALL_SERVICES } from "../helpers/cluster";

const info = { title: "test", version: "1" };

const createOrder: RoutedAction = {
	method: "POST",
	path: "/api/orders",
	action: "orders.create",
	auth: "required",
	params: { items: { type: "array", min: 1, items: { type: "object", props: { productId: { type: "string" } } } } },
};

function operationOf(doc: Record<string, any>, path: string, method: string) {
	return doc.paths[path][method];
}

describe("the OpenAPI document built from the routes", () => {
	it("writes moleculer-web path parameters the OpenAPI way", () => {
		expect(openApiPath("/api/orders/:id/cancel")).toEqual({ path: "/api/orders/{id}/cancel", names: ["id"] });
	});

	it("puts the params of a POST in a JSON body and those of a GET in the query, path parameters in the path", () => {
		const doc = buildOpenApiDocument(
			[
				createOrder,
				{
					method: "GET",
					path: "/api/orders/:id",
					action: "orders.get",
					auth: "required",
					params: { id: { type: "string", max: 64 }, expand: { type: "boolean", optional: true } },
				},
			],
			ACTION_DOCS,
			info,
		);
		const post = operationOf(doc, "/api/orders", "post");
		expect(post.requestBody.content["application/json"].schema).toMatchObject({
			type: "object",
			required: ["items"],
			properties: { items: { type: "array", minItems: 1 } },
		});
		const get = operationOf(doc, "/api/orders/{id}", "get");
		expect(get.parameters).toEqual([
			{ name: "id", in: "path", required: true, schema: { type: "string", maxLength: 64 } },
			{ name: "expand", in: "query", required: false, schema: { type: "boolean" } },
		]);
		expect(get.requestBody).toBeUndefined();
	});

	it("asks a bearer token where the action needs one, and lists 401 and, for admins, 403", () => {
		const doc = buildOpenApiDocument(
			[
				{ method: "GET", path: "/api/products", action: "catalog.list" },
				{ method: "DELETE", path: "/api/products/:id", action: "catalog.remove", auth: "admin" },
			],
			ACTION_DOCS,
			info,
		);
		const list = operationOf(doc, "/api/products", "get");
		expect(list.security).toBeUndefined();
		expect(list.responses["401"]).toBeUndefined();
		const remove = operationOf(doc, "/api/products/{id}", "delete");
		expect(remove.security).toEqual([{ bearerAuth: [] }]);
		expect(Object.keys(remove.responses)).toEqual(expect.arrayContaining(["200", "401", "403", "404", "503"]));
		expect((doc.components as any).securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
	});

	it("answers errors in the shared error shape, and success in the action's own", () => {
		const doc = buildOpenApiDocument([createOrder], ACTION_DOCS, info);
		const post = operationOf(doc, "/api/orders", "post");
		expect(post.responses["201"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Order" });
		for (const status of ["400", "401", "402", "409", "422", "503"]) {
			expect(post.responses[status].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Error" });
		}
		expect((doc.components as any).schemas.Error.required).toEqual(["name", "message", "code"]);
	});

	it("documents the Idempotency-Key of order creation and the header of a replay", () => {
		const post = operationOf(buildOpenApiDocument([createOrder], ACTION_DOCS, info), "/api/orders", "post");
		expect(post.parameters).toEqual([expect.objectContaining({ name: "Idempotency-Key", in: "header", required: false })]);
		expect(post.responses["200"].headers["Idempotent-Replayed"]).toBeDefined();
	});

	it("takes the routes of actions from the alias list, with what their gateway route adds (429, 401)", () => {
		const aliases = [
			{ actionName: "users.login", fullPath: "/api/auth/login", methods: "POST", action: { params: { email: { type: "string" } } } },
			{ actionName: "users.me", fullPath: "/api/users/me", methods: "GET", action: { auth: "required" } },
			{ actionName: "catalog.list", fullPath: "/api/products", methods: "GET", action: {} },
			{ actionName: null, fullPath: "/api/docs", methods: "GET" },
			// An action with no instance at the moment: its route is left out until it is back.
			{ actionName: "orders.list", fullPath: "/api/orders", methods: "GET" },
		];
		const routes = routesFromAliases(aliases, alias => (alias.actionName === "users.login" ? { rateLimited: true } : { authenticates: true }));
		expect(routes.map(r => r.action)).toEqual(["users.login", "users.me", "catalog.list"]);
		const doc = buildOpenApiDocument(routes, ACTION_DOCS, info);
		expect(operationOf(doc, "/api/auth/login", "post").responses["429"]).toBeDefined();
		expect(operationOf(doc, "/api/users/me", "get").responses["429"]).toBeUndefined();
		// A public route that reads a token when one is sent: a bad one is a 401 there too.
		expect(operationOf(doc, "/api/products", "get").responses["401"].description).toMatch(/none is needed/);
		expect(operationOf(doc, "/api/products", "get").security).toBeUndefined();
		expect(operationOf(doc, "/api/auth/login", "post").responses["401"].description).toMatch(/^Wrong email or password/);
	});

	it("documents the conditional GET of a route with ETags: If-None-Match, ETag, and 304 without a body", () => {
		const doc = buildOpenApiDocument(
			[
				{ method: "GET", path: "/api/products", action: "catalog.list", etag: true },
				{ method: "POST", path: "/api/orders", action: "orders.create", auth: "required", etag: true },
			],
			ACTION_DOCS,
			info,
		);
		const list = operationOf(doc, "/api/products", "get");
		expect(list.parameters).toContainEqual(expect.objectContaining({ name: "If-None-Match", in: "header", required: false }));
		expect(list.responses["200"].headers.ETag).toBeDefined();
		expect(list.responses["304"]).toEqual({ description: expect.stringMatching(/^Not modified/) });
		expect(operationOf(doc, "/api/orders", "post").responses["304"]).toBeUndefined();
	});

	it("gives the same document whatever order the routes come in", () => {
		const routes: RoutedAction[] = [
			createOrder,
			{ method: "GET", path: "/api/orders", action: "orders.list", auth: "required" },
			{ method: "GET", path: "/api/products", action: "catalog.list" },
		];
		expect(JSON.stringify(buildOpenApiDocument([...routes].reverse(), ACTION_DOCS, info))).toEqual(
			JSON.stringify(buildOpenApiDocument(routes, ACTION_DOCS, info)),
		);
	});
});

describe("the documentation of the actions", () => {
	const routed = Object.entries(ALL_SERVICES).flatMap(([service, schema]) =>
		Object.entries((schema as ServiceSchema).actions ?? {})
			.filter(([, action]) => typeof action === "object" && action !== null && "rest" in action && action.rest)
			.map(([name]) => `${service}.${name}`),
	);

	it("covers every action that has a route", () => {
		expect(routed.filter(name => !ACTION_DOCS[name])).toEqual([]);
	});

	it("documents no action that has no route", () => {
		const gatewayOwn = ["api.health", "api.ready", "api.openapi"];
		expect(Object.keys(ACTION_DOCS).filter(name => !routed.includes(name) && !gatewayOwn.includes(name))).toEqual([]);
	});
});
