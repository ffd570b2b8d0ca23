/** What tests buy with and sell: the sandbox's cards, and products made through the API. */
import type { CardInput } from "../../src/payments/cards";
import { SANDBOX_CARDS } from "../../src/payments/sandbox-provider";
import type { Client } from "./http";

export { SANDBOX_CARDS };

/** A card that passes every check, expiring in two years; the sandbox decides by its number. */
export function testCard(number: string = SANDBOX_CARDS.succeeds): CardInput {
	return { number, expMonth: 12, expYear: new Date().getFullYear() + 2, cvc: "123" };
}

/** The `payment` of an order request, paying with `testCard(number)`. */
export function cardPayment(number: string = SANDBOX_CARDS.succeeds) {
	return { method: "card", card: testCard(number) };
}

export type ProductFields = { name: string; description: string; price: number; currency: string; category: string; stock: number };

/** Creates a product as the admin `token` and answers its id; a name of its own unless given. */
export async function createProduct(api: Client, token: string, fields: Partial<ProductFields> = {}): Promise<string> {
	const body = {
		name: `Product ${Math.random().toString(36).slice(2, 8)}`,
		description: "for tests",
		price: 1250,
		currency: "USD",
		category: "tests",
		stock: 10,
		...fields,
	};
	const res = await api.post("/api/products", body, { token });
	if (res.status !== 201) throw new Error(`create product: ${res.status} ${JSON.stringify(res.body)}`);
	return res.body.id;
}
