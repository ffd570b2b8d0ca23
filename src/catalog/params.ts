/** `params` rules of the catalog actions, shared by create and update. */
import { amountRule, currencyRule } from "../money";
import { idRule } from "../params";
import { SEARCH_MAX_LENGTH, SORT_OPTIONS } from "./browse";
import { ADJUST_MAX_DELTA, RESERVE_MAX_QUANTITY, STOCK_MAX } from "./stock";

export const NAME_MAX_LENGTH = 200;
export const DESCRIPTION_MAX_LENGTH = 5000;
export const CATEGORY_MAX_LENGTH = 50;
export const MAX_IDS = 100;

/** A product's and an order's ids follow the one id rule. */
export const productIdRule = idRule;
export const orderIdRule = idRule;

/** The editable product fields; `trim` runs before the length checks. */
export const productFieldRules = {
	name: { type: "string", trim: true, min: 1, max: NAME_MAX_LENGTH },
	description: { type: "string", trim: true, max: DESCRIPTION_MAX_LENGTH },
	price: amountRule,
	currency: currencyRule,
	category: { type: "string", trim: true, min: 1, max: CATEGORY_MAX_LENGTH },
	active: { type: "boolean" },
} as const;

/** Stock set at creation; later only stock adjustments and reservations change it. */
export const initialStockRule = { type: "number", integer: true, min: 0, max: STOCK_MAX, convert: false } as const;

export const browseRules = {
	search: { type: "string", trim: true, max: SEARCH_MAX_LENGTH, optional: true },
	category: { type: "string", trim: true, max: CATEGORY_MAX_LENGTH, optional: true },
	sort: { type: "enum", values: [...SORT_OPTIONS], optional: true },
} as const;

export const idsRule = { type: "array", min: 1, max: MAX_IDS, items: productIdRule } as const;

export const quantityRule = { type: "number", integer: true, min: 1, max: RESERVE_MAX_QUANTITY, convert: false } as const;

export const deltaRule = {
	type: "number",
	integer: true,
	notEqual: 0,
	min: -ADJUST_MAX_DELTA,
	max: ADJUST_MAX_DELTA,
	convert: false,
} as const;

/** The rules of `rule` made optional (for partial updates). */
export function optional<R extends Record<string, object>>(rules: R): { [K in keyof R]: R[K] & { optional: true } } {
	return Object.fromEntries(Object.entries(rules).map(([key, rule]) => [key, { ...rule, optional: true }])) as {
		[K in keyof R]: R[K] & { optional: true };
	};
}
