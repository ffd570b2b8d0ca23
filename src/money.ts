/**
 * Money is an integer number of minor units (cents) and an ISO 4217 currency code;
 * never a float.
 */

export type Money = { amount: number; currency: string };

/** The currencies the shop sells in. */
export const CURRENCIES = ["USD", "EUR", "GBP"] as const;
export type Currency = (typeof CURRENCIES)[number];

/** `params` rule for an amount in minor units. */
/** The largest amount the shop handles in one price or payment (minor units). */
export const MAX_AMOUNT = 100_000_000;
export const amountRule = { type: "number", integer: true, min: 0, max: MAX_AMOUNT, convert: false } as const;
export const currencyRule = { type: "enum", values: [...CURRENCIES] } as const;

export function isSafeAmount(amount: number): boolean {
	return Number.isSafeInteger(amount) && amount >= 0;
}

/** price × quantity, refusing anything that is not a whole number of minor units. */
export function lineTotal(unitPrice: number, quantity: number): number {
	const total = unitPrice * quantity;
	if (!isSafeAmount(unitPrice) || !Number.isInteger(quantity) || quantity < 0 || !isSafeAmount(total)) {
		throw new RangeError(`invalid line: ${unitPrice} × ${quantity}`);
	}
	return total;
}

export function sumAmounts(amounts: number[]): number {
	const total = amounts.reduce((sum, a) => sum + a, 0);
	if (!isSafeAmount(total)) throw new RangeError("total out of range");
	return total;
}

/** One formatter per currency: making one costs more than formatting with it many times. */
const formatters = new Map<string, Intl.NumberFormat>();

/** "$12.34"-style text for messages (not for arithmetic). */
export function formatMoney({ amount, currency }: Money): string {
	let format = formatters.get(currency);
	if (!format) {
		format = new Intl.NumberFormat("en-US", { style: "currency", currency });
		formatters.set(currency, format);
	}
	return format.format(amount / 100);
}
