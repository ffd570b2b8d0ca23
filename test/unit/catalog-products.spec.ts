import { DEMO_PRODUCTS } from "../../src/catalog/demo-products";
import { newProduct, productChanges, productEventData, productView, type Product } from "../../src/catalog/products";
import { CURRENCIES } from "../../src/money";

const stored: Product = {
	_id: "p1",
	name: "Lamp",
	description: "A desk lamp",
	price: 2599,
	currency: "USD",
	category: "home",
	stock: 7,
	active: true,
	createdAt: "2026-01-01T00:00:00.000Z",
	updatedAt: "2026-01-02T00:00:00.000Z",
	stockMarks: ["take:order-1:ab12cd34"],
};

describe("public view", () => {
	it("has a string id and exactly the public fields", () => {
		const view = productView({ ...stored, internalNote: "x" } as Product);
		expect(view).toEqual({
			id: "p1",
			name: "Lamp",
			description: "A desk lamp",
			price: 2599,
			currency: "USD",
			category: "home",
			stock: 7,
			active: true,
			createdAt: "2026-01-01T00:00:00.000Z",
			updatedAt: "2026-01-02T00:00:00.000Z",
		});
		expect(view).not.toHaveProperty("_id");
	});
});

describe("new product", () => {
	it("stamps createdAt and updatedAt with the same time", () => {
		const now = new Date("2026-03-04T05:06:07.000Z");
		const entity = newProduct({ name: "Lamp", description: "", price: 100, currency: "EUR", category: "home", stock: 0, active: true }, now);
		expect(entity).toEqual({
			name: "Lamp",
			description: "",
			price: 100,
			currency: "EUR",
			category: "home",
			stock: 0,
			active: true,
			createdAt: "2026-03-04T05:06:07.000Z",
			updatedAt: "2026-03-04T05:06:07.000Z",
			stockMarks: [],
			lowStockReported: false,
		});
	});
});

describe("changes of an update", () => {
	const now = new Date("2026-03-04T05:06:07.000Z");

	it("keeps only the editable fields that were given, and names them", () => {
		const changes = productChanges({ id: "p1", name: "Big lamp", price: 0, active: false, stock: 99, _id: "evil", createdAt: "x" }, now);
		expect(changes).toEqual({
			set: { name: "Big lamp", price: 0, active: false, updatedAt: "2026-03-04T05:06:07.000Z" },
			changed: ["name", "price", "active"],
		});
	});

	it("is nothing when no editable field was given", () => {
		expect(productChanges({ id: "p1" }, now)).toBeNull();
	});
});

describe("event data", () => {
	it("names the product and, for an update, what changed", () => {
		const view = productView(stored);
		expect(productEventData(view)).toEqual({ productId: "p1", name: "Lamp", price: 2599, currency: "USD", category: "home", stock: 7, active: true });
		expect(productEventData(view, ["price"])).toMatchObject({ productId: "p1", changed: ["price"] });
	});
});

describe("demo catalog", () => {
	it("has about twenty sellable products in four categories", () => {
		expect(DEMO_PRODUCTS.length).toBeGreaterThanOrEqual(16);
		expect(new Set(DEMO_PRODUCTS.map(p => p.category))).toEqual(new Set(["books", "electronics", "home", "garden"]));
		expect(new Set(DEMO_PRODUCTS.map(p => p.name)).size).toBe(DEMO_PRODUCTS.length);
		for (const product of DEMO_PRODUCTS) {
			expect(Number.isInteger(product.price) && product.price > 0).toBe(true);
			expect(CURRENCIES).toContain(product.currency);
			expect(product.stock).toBeGreaterThanOrEqual(10);
			expect(product.stock).toBeLessThanOrEqual(100);
			expect(product.active).toBe(true);
			expect(product.name.length).toBeLessThanOrEqual(200);
		}
	});
});
