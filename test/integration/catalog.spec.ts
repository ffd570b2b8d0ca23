/** The catalog through the gateway, as shoppers and admins see it, and its stock actions as the order flow calls them. */
import { request as httpRequest } from "node:http";
import type { ServiceBroker } from "moleculer";
import { config } from "../../src/config";
import { eventProbe, startShop, waitFor, type SeenEvent, type ShopCluster } from "../helpers/cluster";
import { adminToken, client, newCustomer, type Client } from "../helpers/http";

let shop: ShopCluster;
let api: Client;
let admin: string;
let broker: ServiceBroker;
/** Business events seen by a probe service on the same broker. */
let seen: SeenEvent[] = [];

let categorySeq = 0;
/** A category of its own for each test, so that lists do not see other tests' products. */
function freshCategory(): string {
	categorySeq += 1;
	return `cat-${categorySeq}`;
}

async function createProduct(fields: Record<string, unknown> = {}): Promise<any> {
	const res = await api.post(
		"/api/products",
		{ name: "Thing", description: "A thing", price: 1000, currency: "USD", category: "misc", stock: 10, ...fields },
		{ token: admin },
	);
	if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
	return res.body;
}

function fieldsOf(body: any): string[] {
	return (body.data as { field: string }[]).map(d => d.field).sort();
}

beforeAll(async () => {
	shop = await startShop();
	api = client(shop.url);
	admin = await adminToken(api);
	broker = shop.brokers[0];
	seen = await eventProbe(broker, "probe", ["product.created", "product.updated", "product.removed", "inventory.low"]);
});
afterAll(() => shop.stop());

describe("browsing", () => {
	let category: string;

	beforeAll(async () => {
		category = freshCategory();
		await createProduct({ name: "Brass Desk Lamp", description: "Warm light for reading", price: 4500, category });
		await createProduct({ name: "Arc Floor Lamp", description: "Tall and bright", price: 12000, category });
		await createProduct({ name: "Reading Light", description: "Clip-on LAMP for books", price: 1500, category });
		await createProduct({ name: "Garden Gnome", description: "Cheerful and weatherproof", price: 2500, category });
	});

	it("searches name and description in any case, and is public", async () => {
		for (const search of ["lamp", "LAMP", "LaMp"]) {
			const res = await api.get(`/api/products?category=${category}&search=${search}`);
			expect(res.status).toBe(200);
			expect(res.body.rows.map((p: any) => p.name)).toEqual(["Arc Floor Lamp", "Brass Desk Lamp", "Reading Light"]);
			expect(res.body.total).toBe(3);
		}
	});

	it("takes regex syntax in the search as plain text", async () => {
		const c = freshCategory();
		await createProduct({ name: "C++ Primer (5th ed.)", description: "The classic", category: c });
		await createProduct({ name: "Cxx Primer", description: "Not the classic", category: c });
		const literal = await api.get(`/api/products?category=${c}&search=${encodeURIComponent("c++ primer (5th")}`);
		expect(literal.body.rows.map((p: any) => p.name)).toEqual(["C++ Primer (5th ed.)"]);
		const dotStar = await api.get(`/api/products?category=${c}&search=${encodeURIComponent(".*")}`);
		expect(dotStar.status).toBe(200);
		expect(dotStar.body.total).toBe(0);
	});

	it("filters by category", async () => {
		const other = freshCategory();
		await createProduct({ name: "Elsewhere Lamp", category: other });
		const res = await api.get(`/api/products?category=${other}`);
		expect(res.body.rows.map((p: any) => p.name)).toEqual(["Elsewhere Lamp"]);
		expect(res.body.rows[0]).toEqual({
			id: expect.any(String),
			name: "Elsewhere Lamp",
			description: "A thing",
			price: 1000,
			currency: "USD",
			category: other,
			stock: 10,
			active: true,
			createdAt: expect.any(String),
			updatedAt: expect.any(String),
		});
	});

	it("pages without overlap", async () => {
		const first = await api.get(`/api/products?category=${category}&pageSize=3&page=1`);
		const second = await api.get(`/api/products?category=${category}&pageSize=3&page=2`);
		expect(first.body).toMatchObject({ total: 4, page: 1, pageSize: 3, totalPages: 2 });
		expect(first.body.rows).toHaveLength(3);
		expect(second.body).toMatchObject({ total: 4, page: 2, pageSize: 3, totalPages: 2 });
		expect(second.body.rows).toHaveLength(1);
		const ids = [...first.body.rows, ...second.body.rows].map((p: any) => p.id);
		expect(new Set(ids).size).toBe(4);
	});

	it("sorts by name by default, and by price either way", async () => {
		const byName = await api.get(`/api/products?category=${category}`);
		expect(byName.body.rows.map((p: any) => p.name)).toEqual(["Arc Floor Lamp", "Brass Desk Lamp", "Garden Gnome", "Reading Light"]);
		const cheapFirst = await api.get(`/api/products?category=${category}&sort=price`);
		expect(cheapFirst.body.rows.map((p: any) => p.price)).toEqual([1500, 2500, 4500, 12000]);
		const dearFirst = await api.get(`/api/products?category=${category}&sort=-price`);
		expect(dearFirst.body.rows.map((p: any) => p.price)).toEqual([12000, 4500, 2500, 1500]);
	});

	it("answers 422 to an unknown sort, a long search or a huge page", async () => {
		expect((await api.get("/api/products?sort=stock")).status).toBe(422);
		expect((await api.get(`/api/products?search=${"x".repeat(101)}`)).status).toBe(422);
		const huge = await api.get("/api/products?pageSize=1000");
		expect(huge.status).toBe(422);
		expect(fieldsOf(huge.body)).toEqual(["pageSize"]);
	});

	it("shows a new product in a list that was cached before", async () => {
		const c = freshCategory();
		await createProduct({ name: "First", category: c });
		expect((await api.get(`/api/products?category=${c}`)).body.total).toBe(1);
		await createProduct({ name: "Second", category: c });
		expect((await api.get(`/api/products?category=${c}`)).body.total).toBe(2);
	});
});

describe("one product", () => {
	it("is public, and 404 when unknown", async () => {
		const product = await createProduct({ name: "Kettle" });
		const res = await api.get(`/api/products/${product.id}`);
		expect(res.status).toBe(200);
		expect(res.body).toEqual(product);
		const unknown = await api.get("/api/products/no-such-product");
		expect(unknown.status).toBe(404);
		expect(unknown.body).toMatchObject({ name: "NotFoundError", code: 404, type: "NOT_FOUND" });
	});
});

describe("the gateway's response cache", () => {
	/** The catalog's cached answer of this product was looked up: the read reached the action. */
	function cacheLookups(): jest.SpyInstance {
		return jest.spyOn(broker.cacher!, "get");
	}

	/**
	 * Until the catalog's relay has published every event its writes owe: taking them off a
	 * product is a write too, and it cleans that product's answers (a moment after the write
	 * that owed them, longer on MongoDB).
	 */
	const relayed = () =>
		waitFor(async () => ((await broker.call<{ events: number }>("catalog.outboxBacklog")).events === 0 ? true : undefined), "the catalog's outbox relayed");
	afterEach(() => jest.restoreAllMocks());

	it("answers a repeated anonymous read without a call: same body and ETag, 304 to a client that has it", async () => {
		const product = await createProduct({ name: "Popular" });
		await relayed();
		const first = await api.get(`/api/products/${product.id}`);
		const lookups = cacheLookups();
		const again = await api.get(`/api/products/${product.id}`, { headers: { "x-request-id": "shopper-42" } });
		expect(lookups).not.toHaveBeenCalled();
		expect(again.status).toBe(200);
		expect(again.body).toEqual(first.body);
		expect(again.headers.get("etag")).toBe(first.headers.get("etag"));
		expect(again.headers.get("content-type")).toMatch(/application\/json/);
		expect(again.headers.get("x-request-id")).toBe("shopper-42");

		// (Node's fetch asks for a full answer to a conditional request unless told max-age=0, as a browser does.)
		const revalidate = { "if-none-match": first.headers.get("etag")!, "cache-control": "max-age=0" };
		const unchanged = await api.get(`/api/products/${product.id}`, { headers: revalidate });
		expect(unchanged.status).toBe(304);
		expect(unchanged.body).toBeUndefined();
		expect(lookups).not.toHaveBeenCalled();
	});

	it("answers a signed-in read from it once the gateway knows the token; a bad token is still a 401", async () => {
		const product = await createProduct();
		const customer = await newCustomer(api);
		await relayed();
		// (The users service's relay cleans the accounts the gateway knows, as any change of a user does.)
		await waitFor(async () => ((await broker.call<{ events: number }>("users.outboxBacklog")).events === 0 ? true : undefined), "the users' outbox relayed");
		await api.get(`/api/products/${product.id}`);
		const lookups = cacheLookups();
		// A token the gateway has not seen is checked first: that read goes through.
		expect((await api.get(`/api/products/${product.id}`, { token: customer.token })).body).toMatchObject({ id: product.id });
		expect(lookups).toHaveBeenCalled();
		lookups.mockClear();
		expect((await api.get(`/api/products/${product.id}`, { token: customer.token })).body).toMatchObject({ id: product.id });
		expect(lookups).not.toHaveBeenCalled();
		expect((await api.get(`/api/products/${product.id}`, { token: "not-a-token" })).status).toBe(401);
		expect((await api.get(`/api/products/${product.id}`, { headers: { authorization: `Basic ${customer.token}` } })).status).toBe(401);
	});

	it("shows a change of stock, price or activity right away, in the product and in the lists", async () => {
		const category = freshCategory();
		const product = await createProduct({ category, stock: 10, price: 500 });
		const read = async () => [(await api.get(`/api/products/${product.id}`)).body, (await api.get(`/api/products?category=${category}`)).body.rows[0]];
		expect(await read()).toEqual([expect.objectContaining({ stock: 10 }), expect.objectContaining({ stock: 10 })]);

		await api.post(`/api/products/${product.id}/stock`, { delta: -3 }, { token: admin });
		expect(await read()).toEqual([expect.objectContaining({ stock: 7 }), expect.objectContaining({ stock: 7 })]);

		await broker.call("catalog.reserve", { orderId: "cache-order", productId: product.id, quantity: 2 });
		expect(await read()).toEqual([expect.objectContaining({ stock: 5 }), expect.objectContaining({ stock: 5 })]);

		await api.patch(`/api/products/${product.id}`, { price: 650 }, { token: admin });
		expect(await read()).toEqual([expect.objectContaining({ price: 650 }), expect.objectContaining({ price: 650 })]);

		await api.delete(`/api/products/${product.id}`, { token: admin });
		expect((await api.get(`/api/products/${product.id}`)).status).toBe(404);
		expect((await api.get(`/api/products?category=${category}`)).body.total).toBe(0);
	});

	it("neither answers nor keeps a GET that has a body, whose params are not the URL's alone", async () => {
		const category = freshCategory();
		await createProduct({ category, name: "Shown" });
		// (fetch sends no body with a GET; node:http does, as any client may.)
		const getWithBody = (path: string, body: object) =>
			new Promise<{ status: number; body: any }>((resolve, reject) => {
				const json = JSON.stringify(body);
				const headers = { "content-type": "application/json", "content-length": String(Buffer.byteLength(json)) };
				const req = httpRequest(`${shop.url}${path}`, { method: "GET", headers }, res => {
					let text = "";
					res.on("data", chunk => (text += chunk));
					res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
				});
				req.on("error", reject);
				req.end(json);
			});
		const path = `/api/products?category=${category}`;
		expect((await getWithBody(path, { search: "nothing like it" })).body.total).toBe(0);
		expect((await api.get(path)).body.total).toBe(1);
		expect((await getWithBody(path, { search: "nothing like it" })).body.total).toBe(0);
	});

	it("keeps another product's answer through a change of this one", async () => {
		const [changed, other] = [await createProduct(), await createProduct()];
		await relayed();
		await api.get(`/api/products/${other.id}`);
		await api.post(`/api/products/${changed.id}/stock`, { delta: 1 }, { token: admin });
		await relayed();
		const lookups = cacheLookups();
		expect((await api.get(`/api/products/${other.id}`)).body).toEqual(other);
		expect(lookups).not.toHaveBeenCalled();
	});
});

describe("creating", () => {
	it("lets an admin create a product: 201, its location, the product, and product.created", async () => {
		const res = await api.post(
			"/api/products",
			{ name: "  Teapot ", description: "Cast iron", price: 3999, currency: "EUR", category: " kitchen ", stock: 12 },
			{ token: admin },
		);
		expect(res.status).toBe(201);
		expect(res.body).toMatchObject({ name: "Teapot", description: "Cast iron", price: 3999, currency: "EUR", category: "kitchen", stock: 12, active: true });
		expect(res.headers.get("location")).toBe(`/api/products/${res.body.id}`);
		expect(res.body.createdAt).toBe(res.body.updatedAt);
		expect(res.body).not.toHaveProperty("_id");

		const event = await waitFor(() => seen.find(e => e.event === "product.created" && e.payload.data.productId === res.body.id), "product.created");
		expect(event.payload).toMatchObject({ id: expect.any(String), type: "product.created", at: expect.any(String), data: { name: "Teapot", price: 3999 } });
	});

	it("defaults stock to 0, description to empty and active to true", async () => {
		const res = await api.post("/api/products", { name: "Spoon", price: 199, currency: "USD", category: "kitchen" }, { token: admin });
		expect(res.status).toBe(201);
		expect(res.body).toMatchObject({ stock: 0, description: "", active: true });
	});

	it("answers 401 without a token and 403 to a customer", async () => {
		const body = { name: "Nope", price: 100, currency: "USD", category: "misc" };
		expect((await api.post("/api/products", body)).status).toBe(401);
		const { token } = await newCustomer(api);
		const res = await api.post("/api/products", body, { token });
		expect(res.status).toBe(403);
		expect(res.body).toMatchObject({ name: "ForbiddenError", code: 403 });
	});

	it("answers 422 naming each invalid field", async () => {
		const valid = { name: "Ok", price: 100, currency: "USD", category: "misc" };
		const cases: [Record<string, unknown>, string[]][] = [
			[{ price: -1 }, ["price"]],
			[{ price: 1.5 }, ["price"]],
			[{ price: "100" }, ["price"]],
			[{ currency: "XYZ" }, ["currency"]],
			[{ name: "   " }, ["name"]],
			[{ name: "x".repeat(201) }, ["name"]],
			[{ category: "" }, ["category"]],
			[{ stock: -1 }, ["stock"]],
			[{ stock: 2.5 }, ["stock"]],
			[{ description: "x".repeat(5001) }, ["description"]],
			[{ price: -1, currency: "XYZ", name: "" }, ["currency", "name", "price"]],
		];
		for (const [change, fields] of cases) {
			const res = await api.post("/api/products", { ...valid, ...change }, { token: admin });
			expect(res.status).toBe(422);
			expect(fieldsOf(res.body)).toEqual(fields);
		}
		const missing = await api.post("/api/products", {}, { token: admin });
		expect(missing.status).toBe(422);
		expect(fieldsOf(missing.body)).toEqual(["category", "currency", "name", "price"]);
	});
});

describe("updating", () => {
	it("changes the given fields, moves updatedAt and emits product.updated", async () => {
		const product = await createProduct({ name: "Mug", price: 900 });
		const res = await api.patch(`/api/products/${product.id}`, { name: "Big Mug", price: 1200 }, { token: admin });
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ id: product.id, name: "Big Mug", price: 1200, description: product.description, stock: product.stock });
		expect(res.body.createdAt).toBe(product.createdAt);
		expect(res.body.updatedAt >= product.updatedAt).toBe(true);
		const event = await waitFor(() => seen.find(e => e.event === "product.updated" && e.payload.data.productId === product.id), "product.updated");
		expect(event.payload.data.changed).toEqual(["name", "price"]);
	});

	it("shows the change on a cached product right away", async () => {
		const product = await createProduct({ name: "Cached", price: 500 });
		expect((await api.get(`/api/products/${product.id}`)).body.price).toBe(500);
		expect((await api.get(`/api/products/${product.id}`)).body.price).toBe(500);
		await api.patch(`/api/products/${product.id}`, { price: 750 }, { token: admin });
		expect((await api.get(`/api/products/${product.id}`)).body.price).toBe(750);
	});

	it("refuses stock, invalid values and non-admins; 404 when unknown", async () => {
		const product = await createProduct();
		const stock = await api.patch(`/api/products/${product.id}`, { stock: 1000 }, { token: admin });
		expect(stock.status).toBe(422);
		expect(fieldsOf(stock.body)).toEqual(["stock"]);
		const bad = await api.patch(`/api/products/${product.id}`, { price: 1.5, currency: "XYZ" }, { token: admin });
		expect(bad.status).toBe(422);
		expect(fieldsOf(bad.body)).toEqual(["currency", "price"]);
		expect((await api.patch(`/api/products/${product.id}`, { price: 1 })).status).toBe(401);
		const { token } = await newCustomer(api);
		expect((await api.patch(`/api/products/${product.id}`, { price: 1 }, { token })).status).toBe(403);
		expect((await api.patch("/api/products/no-such-product", { price: 1 }, { token: admin })).status).toBe(404);
		expect((await api.get(`/api/products/${product.id}`)).body).toEqual(product);
	});
});

describe("removing", () => {
	it("hides the product from list and get, keeps it for orders, and emits product.removed", async () => {
		const category = freshCategory();
		const product = await createProduct({ name: "Old Model", category });
		expect((await api.get(`/api/products/${product.id}`)).status).toBe(200);
		expect((await api.get(`/api/products?category=${category}`)).body.total).toBe(1);

		const res = await api.delete(`/api/products/${product.id}`, { token: admin });
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ id: product.id, active: false });

		expect((await api.get(`/api/products/${product.id}`)).status).toBe(404);
		expect((await api.get(`/api/products?category=${category}`)).body.total).toBe(0);
		const [kept] = await broker.call<any[], { ids: string[] }>("catalog.getMany", { ids: [product.id] });
		expect(kept).toMatchObject({ id: product.id, active: false, price: product.price });
		await waitFor(() => seen.find(e => e.event === "product.removed" && e.payload.data.productId === product.id), "product.removed");

		// Removing again is harmless and says nothing new.
		expect((await api.delete(`/api/products/${product.id}`, { token: admin })).status).toBe(200);
		expect(seen.filter(e => e.event === "product.removed" && e.payload.data.productId === product.id)).toHaveLength(1);
	});

	it("can be undone by an update, and is for admins only", async () => {
		const product = await createProduct();
		const { token } = await newCustomer(api);
		expect((await api.delete(`/api/products/${product.id}`, { token })).status).toBe(403);
		expect((await api.delete(`/api/products/${product.id}`)).status).toBe(401);
		expect((await api.delete("/api/products/no-such-product", { token: admin })).status).toBe(404);
		await api.delete(`/api/products/${product.id}`, { token: admin });
		await api.patch(`/api/products/${product.id}`, { active: true }, { token: admin });
		expect((await api.get(`/api/products/${product.id}`)).status).toBe(200);
	});
});

describe("getMany", () => {
	it("returns the known products in the order asked, skipping unknown ids", async () => {
		const a = await createProduct({ name: "A" });
		const b = await createProduct({ name: "B" });
		const views = await broker.call<any[], { ids: string[] }>("catalog.getMany", { ids: [b.id, "no-such-product", a.id, b.id] });
		expect(views.map(v => v.id)).toEqual([b.id, a.id]);
		expect(views[0]).toEqual(b);
	});

	it("is not routed through the gateway", async () => {
		expect((await api.get("/api/products/getMany")).status).toBe(404);
	});
});

describe("stock adjustment", () => {
	it("moves stock up and down, never below zero", async () => {
		const product = await createProduct({ stock: 10 });
		const up = await api.post(`/api/products/${product.id}/stock`, { delta: 5 }, { token: admin });
		expect(up.status).toBe(200);
		expect(up.body).toMatchObject({ id: product.id, stock: 15 });
		const down = await api.post(`/api/products/${product.id}/stock`, { delta: -15 }, { token: admin });
		expect(down.body.stock).toBe(0);

		const below = await api.post(`/api/products/${product.id}/stock`, { delta: -1 }, { token: admin });
		expect(below.status).toBe(409);
		expect(below.body).toMatchObject({ name: "ConflictError", code: 409, type: "INSUFFICIENT_STOCK", data: { productId: product.id, delta: -1, stock: 0 } });
		expect((await api.get(`/api/products/${product.id}`)).body.stock).toBe(0);
	});

	it("refuses a zero, fractional or huge delta, non-admins and unknown products", async () => {
		const product = await createProduct();
		for (const delta of [0, 1.5, "3", 1_000_001, -1_000_001]) {
			const res = await api.post(`/api/products/${product.id}/stock`, { delta }, { token: admin });
			expect(res.status).toBe(422);
			expect(fieldsOf(res.body)).toEqual(["delta"]);
		}
		const { token } = await newCustomer(api);
		expect((await api.post(`/api/products/${product.id}/stock`, { delta: 1 }, { token })).status).toBe(403);
		expect((await api.post(`/api/products/${product.id}/stock`, { delta: 1 })).status).toBe(401);
		expect((await api.post("/api/products/no-such-product/stock", { delta: 1 }, { token: admin })).status).toBe(404);
		expect((await api.get(`/api/products/${product.id}`)).body.stock).toBe(product.stock);
	});
});

describe("reserve and release", () => {
	type StockCall = { productId: string; quantity: number; orderId: string };
	let orderSeq = 0;
	/** Each call is for an order of its own unless one is named. */
	const reserve = (productId: string, quantity: number, orderId = `order-${++orderSeq}`) =>
		broker.call<any, StockCall>("catalog.reserve", { productId, quantity, orderId });
	const release = (productId: string, quantity: number, orderId: string) => broker.call<any, StockCall>("catalog.release", { productId, quantity, orderId });

	it("takes and gives back an order's stock, reporting the stock after", async () => {
		const product = await createProduct({ stock: 10 });
		expect(await reserve(product.id, 3, "o-a")).toEqual({ productId: product.id, quantity: 3, stock: 7 });
		expect(await release(product.id, 3, "o-a")).toEqual({ productId: product.id, quantity: 3, stock: 10, released: true });
		expect((await api.get(`/api/products/${product.id}`)).body.stock).toBe(10);
	});

	it("takes an order's stock once however often it is asked, and gives it back once", async () => {
		const product = await createProduct({ stock: 10 });
		await Promise.all([1, 2, 3].map(() => reserve(product.id, 4, "o-twice")));
		expect((await api.get(`/api/products/${product.id}`)).body.stock).toBe(6);
		const releases = await Promise.all([1, 2, 3].map(() => release(product.id, 4, "o-twice")));
		expect(releases.filter(r => r.released)).toHaveLength(1);
		expect((await api.get(`/api/products/${product.id}`)).body.stock).toBe(10);
		expect(await release(product.id, 4, "o-never-reserved")).toMatchObject({ released: false, stock: 10 });
	});

	it("answers 409 OUT_OF_STOCK when there is not enough, and takes nothing", async () => {
		const product = await createProduct({ stock: 2 });
		await expect(reserve(product.id, 3)).rejects.toMatchObject({ code: 409, type: "OUT_OF_STOCK", data: { productId: product.id, requested: 3 } });
		expect((await api.get(`/api/products/${product.id}`)).body.stock).toBe(2);
	});

	it("answers 404 for an unknown or removed product; release still works on a removed one", async () => {
		await expect(reserve("no-such-product", 1)).rejects.toMatchObject({ code: 404 });
		await expect(release("no-such-product", 1, "o-x")).rejects.toMatchObject({ code: 404 });
		const product = await createProduct({ stock: 5 });
		await reserve(product.id, 1, "o-before-removal");
		await api.delete(`/api/products/${product.id}`, { token: admin });
		await expect(reserve(product.id, 1)).rejects.toMatchObject({ code: 404 });
		expect(await release(product.id, 1, "o-before-removal")).toMatchObject({ stock: 5, released: true });
	});

	it("validates the quantity", async () => {
		const product = await createProduct();
		for (const quantity of [0, -1, 1.5, 1001]) {
			await expect(reserve(product.id, quantity)).rejects.toMatchObject({ code: 422 });
		}
	});

	it("is not routed through the gateway", async () => {
		const product = await createProduct();
		expect((await api.post(`/api/products/${product.id}/reserve`, { quantity: 1 }, { token: admin })).status).toBe(404);
	});

	it("never oversells: 50 parallel reserves of 1 against a stock of 10", async () => {
		const product = await createProduct({ stock: 10 });
		const results = await Promise.allSettled(Array.from({ length: 50 }, () => reserve(product.id, 1)));
		const succeeded = results.filter(r => r.status === "fulfilled");
		const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
		expect(succeeded).toHaveLength(10);
		expect(failed).toHaveLength(40);
		for (const f of failed) expect(f.reason).toMatchObject({ code: 409, type: "OUT_OF_STOCK" });
		expect((await api.get(`/api/products/${product.id}`)).body.stock).toBe(0);
	});

	/** The catalog's own view: the stored product and the holds of its stock. */
	const catalog = () =>
		broker.getLocalService("catalog") as unknown as {
			findEntityById(id: string): Promise<Record<string, unknown>>;
			holds: { find(query: object): Promise<{ orderId: string; quantity: number; state: string }[]> };
		};
	const holdsOf = (productId: string) => catalog().holds.find({ productId });

	it("keeps one hold per order and product, of its quantity, while the order holds the stock", async () => {
		const product = await createProduct({ stock: 10 });
		await reserve(product.id, 3, "o-held");
		await reserve(product.id, 3, "o-held");
		await reserve(product.id, 1, "o-other");
		expect(
			(await holdsOf(product.id)).map(({ orderId, quantity, state }) => ({ orderId, quantity, state })).sort((a, b) => a.orderId.localeCompare(b.orderId)),
		).toEqual([
			{ orderId: "o-held", quantity: 3, state: "held" },
			{ orderId: "o-other", quantity: 1, state: "held" },
		]);
		await release(product.id, 3, "o-held");
		await broker.call("catalog.settle", { productId: product.id, orderId: "o-other" });
		expect(await holdsOf(product.id)).toEqual([]);
		expect((await api.get(`/api/products/${product.id}`)).body.stock).toBe(9);
	});

	it("keeps the stored product the same size however many orders hold its stock", async () => {
		const product = await createProduct({ stock: 500_000 });
		// As stored once product.created is published and off its outbox, as it is after every reserve.
		const before = await waitFor(async () => {
			const stored = await catalog().findEntityById(product.id);
			return stored && !("outboxSize" in stored) ? stored : undefined;
		}, "product.created off the product's outbox");
		await Promise.all(Array.from({ length: 100 }, () => reserve(product.id, 1)));
		const after = await catalog().findEntityById(product.id);
		expect(after).toMatchObject({ stock: 499_900, stockMarks: [] });
		expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
		expect(JSON.stringify(after).length).toBe(JSON.stringify(before).length);
		expect(await holdsOf(product.id)).toHaveLength(100);
	});

	it("emits inventory.low once, when the stock falls below the threshold", async () => {
		const threshold = config.catalog.lowStockThreshold;
		const product = await createProduct({ name: "Scarce", stock: threshold + 2 });
		const lowOf = () => seen.filter(e => e.event === "inventory.low" && e.payload.data.productId === product.id);
		// Leaves exactly the threshold: not low yet. (Had it emitted, that event would come first.)
		await reserve(product.id, 2);
		await reserve(product.id, 1);
		const event = await waitFor(() => lowOf()[0], "inventory.low");
		expect(event.payload).toMatchObject({
			id: expect.any(String),
			type: "inventory.low",
			data: { productId: product.id, name: "Scarce", stock: threshold - 1 },
		});

		// Further down is not news; an admin's correction down across the threshold is.
		await reserve(product.id, 1);
		await api.post(`/api/products/${product.id}/stock`, { delta: 10 }, { token: admin });
		await api.post(`/api/products/${product.id}/stock`, { delta: -10 }, { token: admin });
		await waitFor(() => lowOf()[1], "a second inventory.low");
		expect(lowOf().map(e => e.payload.data.stock)).toEqual([threshold - 1, threshold - 2]);
	});
});
