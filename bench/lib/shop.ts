/** What every run of the shop needs: a product with ample stock, a customer, and the four scenarios. */
import { client, newCustomer, type Client } from "../../test/helpers/http";
import type { Scenario } from "./load";

/**
 * `productId`: the product every order buys; `otherProductId`: one that is read while orders
 * change the first one's stock. `customerTokens`: one customer per connection of the load,
 * each buying with their own account.
 */
export type ShopFixture = { api: Client; adminToken: string; productId: string; otherProductId: string; customerTokens: string[] };

export type ShopScenarios = { productGet: Scenario; productList: Scenario; me: Scenario; order: Scenario; otherProductGet: Scenario };

/** Logs in as the admin the shop was started with. */
export async function loginAdmin(url: string, email: string, password: string): Promise<string> {
	const res = await client(url).post("/api/auth/login", { email, password });
	if (res.status !== 200) throw new Error(`admin login failed: ${res.status} ${JSON.stringify(res.body)}`);
	return res.body.token;
}

/** Adds a product of the "bench" category. */
async function addProduct(api: Client, adminToken: string, name: string, stock: number): Promise<string> {
	const product = await api.post(
		"/api/products",
		{ name, description: "used by the benchmark", price: 900, currency: "USD", category: "bench", stock },
		{ token: adminToken },
	);
	if (product.status !== 201) throw new Error(`creating ${name} failed: ${product.status} ${JSON.stringify(product.body)}`);
	return product.body.id;
}

/** Adds the product every order buys (stock enough for any run) and another one, and registers `customerCount` customers who buy. */
export async function prepareShop(url: string, adminToken: string, customerCount: number): Promise<ShopFixture> {
	const api = client(url);
	const productId = await addProduct(api, adminToken, "Bench mug", 100_000_000);
	const otherProductId = await addProduct(api, adminToken, "Bench lamp", 1_000);
	const customers = await Promise.all(Array.from({ length: customerCount }, (_, i) => newCustomer(api, `Bench customer ${i + 1}`)));
	return { api, adminToken, productId, otherProductId, customerTokens: customers.map(c => c.token) };
}

export function shopScenarios(fixture: ShopFixture): ShopScenarios {
	const card = { number: "4242424242424242", expMonth: 12, expYear: new Date().getFullYear() + 2, cvc: "123" };
	return {
		productGet: { name: "GET /api/products/:id", method: "GET", path: `/api/products/${fixture.productId}` },
		productList: { name: "GET /api/products", method: "GET", path: "/api/products" },
		me: { name: "GET /api/users/me", method: "GET", path: "/api/users/me", tokens: fixture.customerTokens },
		order: {
			name: "POST /api/orders",
			method: "POST",
			path: "/api/orders",
			tokens: fixture.customerTokens,
			body: { items: [{ productId: fixture.productId, quantity: 1 }], payment: { method: "card", card } },
		},
		otherProductGet: { name: "GET /api/products/:id of another product", method: "GET", path: `/api/products/${fixture.otherProductId}` },
	};
}

/** Paid orders that analytics has counted. */
export async function countedOrders(fixture: ShopFixture): Promise<number> {
	const res = await fixture.api.get("/api/analytics/summary", { token: fixture.adminToken });
	if (res.status !== 200) throw new Error(`analytics summary answered ${res.status}`);
	return res.body.orders as number;
}

/**
 * Polls the analytics summary until it counts `expected` paid orders. Returns the seconds
 * that took, or Infinity (and the last count it got, NaN if none) when `timeoutMs` passed first;
 * `onProgress` hears the last count every 10 s, and whether the latest poll got an answer.
 */
export async function analyticsDrain(
	fixture: ShopFixture,
	expected: number,
	timeoutMs: number,
	onProgress: (counted: number, answered: boolean) => void,
): Promise<{ seconds: number; counted: number }> {
	const started = Date.now();
	let told = started;
	let counted = Number.NaN;
	for (;;) {
		const latest = await countedOrders(fixture).catch(() => undefined);
		if (latest !== undefined) counted = latest;
		const now = Date.now();
		if (counted >= expected) return { seconds: (now - started) / 1000, counted };
		if (now - started > timeoutMs) return { seconds: Number.POSITIVE_INFINITY, counted };
		if (now - told >= 10_000) {
			onProgress(counted, latest !== undefined);
			told = now;
		}
		await new Promise(resolve => setTimeout(resolve, 250));
	}
}
