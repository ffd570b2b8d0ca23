/**
 * The API contract seen from outside: the document is valid OpenAPI for a standard parser,
 * the docs page is served, and a client generated from the document (openapi-typescript
 * types, openapi-fetch) talks to the shop. Every other integration test checks its
 * answers against the same document (test/helpers/contract.ts).
 */
import { readFile } from "node:fs/promises";
import SwaggerParser from "@apidevtools/swagger-parser";
import createClient from "openapi-fetch";
import { API_TYPES_FILE, apiTypesSource } from "../contract/api-types";
import type { paths } from "../contract/shop-api";
import { startShop, type ShopCluster } from "../helpers/cluster";

let shop: ShopCluster;
let document: Record<string, any>;

beforeAll(async () => {
	shop = await startShop();
	document = (await (await fetch(`${shop.url}/api/openapi.json`)).json()) as Record<string, any>;
});
afterAll(() => shop.stop());

describe("GET /api/openapi.json", () => {
	it("is a valid OpenAPI 3.1 document for @apidevtools/swagger-parser", async () => {
		const api = await SwaggerParser.validate(structuredClone(document) as never);
		expect(api).toMatchObject({ openapi: "3.1.0" });
	});

	it("documents every route with its answers, and only the routes there are", () => {
		expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(["/api/orders", "/api/products/{id}", "/api/auth/login", "/health", "/ready"]));
		expect(Object.keys(document.paths)).not.toContain("/api/users/resolveToken");
		for (const [path, operations] of Object.entries<Record<string, any>>(document.paths)) {
			for (const [method, op] of Object.entries<any>(operations)) {
				const success = Object.keys(op.responses).filter(status => status.startsWith("2"));
				expect({ route: `${method} ${path}`, success: success.length > 0 }).toEqual({ route: `${method} ${path}`, success: true });
				for (const status of success) expect(op.responses[status].content["application/json"].schema).toBeDefined();
			}
		}
	});

	it("matches the client types generated from it (npm run openapi:types writes them again)", async () => {
		expect(await apiTypesSource(document)).toEqual(await readFile(API_TYPES_FILE, "utf8"));
	});
});

describe("GET /api/docs", () => {
	it("serves Swagger UI from the gateway, pointed at the document", async () => {
		const page = await fetch(`${shop.url}/api/docs`);
		expect(page.status).toBe(200);
		expect(page.headers.get("content-type")).toMatch(/^text\/html/);
		expect(page.headers.get("content-security-policy")).toMatch(/default-src 'self'/);
		const html = await page.text();
		expect(html).toContain("/api/docs/swagger-ui-bundle.js");
		expect(html).not.toMatch(/https?:\/\//);
		// No inline script (the policy forbids it): Swagger UI starts from init.js, on this gateway's document.
		expect(html).not.toMatch(/<script>/);
		expect(await (await fetch(`${shop.url}/api/docs/init.js`)).text()).toContain('url: "/api/openapi.json"');

		const script = await fetch(`${shop.url}/api/docs/swagger-ui-bundle.js`);
		expect(script.status).toBe(200);
		expect(script.headers.get("content-type")).toMatch(/^text\/javascript/);
		expect((await script.text()).length).toBeGreaterThan(100_000);
	});

	it("serves none of the package's other files", async () => {
		for (const name of ["package.json", "..%2Fpackage.json", "index.js"]) {
			const res = await fetch(`${shop.url}/api/docs/${name}`);
			expect(res.status).toBe(404);
			expect(await res.json()).toMatchObject({ name: "NotFoundError", code: 404 });
		}
	});
});

describe("a client generated from the document", () => {
	const card = { number: "4242424242424242", expMonth: 12, expYear: new Date().getFullYear() + 2, cvc: "123" };

	it("stocks a product, signs up, orders with an Idempotency-Key, replays it and reads the order back", async () => {
		const client = createClient<paths>({ baseUrl: shop.url });

		const admin = await client.POST("/api/auth/login", { body: { email: process.env.ADMIN_EMAIL!, password: process.env.ADMIN_PASSWORD! } });
		const asAdmin = { authorization: `Bearer ${admin.data!.token}` };
		const created = await client.POST("/api/products", {
			body: { name: "Typed teapot", price: 2500, currency: "EUR", category: "kitchen", stock: 3 },
			headers: asAdmin,
		});
		expect(created.response.status).toBe(201);

		const signup = await client.POST("/api/auth/register", { body: { email: `typed-${Date.now()}@shop.test`, password: "correct-horse-1", name: "Typed" } });
		expect(signup.response.status).toBe(201);
		const token = signup.data!.token;
		const headers = { authorization: `Bearer ${token}` };

		const products = await client.GET("/api/products", { params: { query: { search: "typed teapot", sort: "-price", pageSize: 5 } } });
		const product = products.data!.rows[0];
		expect(product).toMatchObject({ id: created.data!.id, price: 2500, stock: 3 });

		const order = { items: [{ productId: product.id, quantity: 1 }], payment: { method: "card" as const, card } };
		const key = { "Idempotency-Key": `typed-${Date.now()}` };
		const placed = await client.POST("/api/orders", { body: order, params: { header: key }, headers });
		expect(placed.response.status).toBe(201);
		expect(placed.data).toMatchObject({ status: "paid", total: 2500, currency: "EUR" });

		const replayed = await client.POST("/api/orders", { body: order, params: { header: key }, headers });
		expect(replayed.response.status).toBe(200);
		expect(replayed.response.headers.get("idempotent-replayed")).toBe("true");
		expect(replayed.data!.id).toBe(placed.data!.id);

		const read = await client.GET("/api/orders/{id}", { params: { path: { id: placed.data!.id } }, headers });
		expect(read.data!.status).toBe("paid");
	});

	it("gets the error shape the document declares", async () => {
		const client = createClient<paths>({ baseUrl: shop.url });
		const missing = await client.GET("/api/products/{id}", { params: { path: { id: "no-such-product" } } });
		expect(missing.response.status).toBe(404);
		expect(missing.error).toMatchObject({ name: "NotFoundError", code: 404, type: "NOT_FOUND" });

		const anonymous = await client.GET("/api/orders", {});
		expect(anonymous.response.status).toBe(401);
		expect(anonymous.error!.code).toBe(401);

		// A public route reads a token when one is sent; the document says a bad one is a 401 there too.
		const badToken = await client.GET("/api/products", { headers: { authorization: "Bearer not-a-token" } });
		expect(badToken.response.status).toBe(401);
		expect(document.paths["/api/products"].get.responses["401"]).toBeDefined();
	});
});
