/**
 * Product rules: what is stored, what anyone may see, and how a create or an update
 * request becomes the fields to write. No Moleculer here.
 *
 * `updatedAt` moves when an admin changes the product (details, active flag, stock
 * adjustment); reservations and releases of the order flow leave it alone.
 */
import type { ProductEventData } from "../events";
import type { Currency } from "../money";

/** The stored product. Price is an integer number of minor units of `currency`. */
export type Product = {
	_id: string;
	name: string;
	description: string;
	price: number;
	currency: Currency;
	category: string;
	stock: number;
	active: boolean;
	createdAt: string;
	updatedAt: string;
	/** The stock changes being applied right now (stock.ts); internal, never shown. */
	stockMarks?: string[];
	/** inventory.low went out for the stock being below the threshold (stock.ts); internal. */
	lowStockReported?: boolean;
};

export type ProductView = Omit<Product, "_id" | "stockMarks" | "lowStockReported"> & { id: string };

/** The fields an admin sets when creating a product (after validation and defaults). */
export type NewProductFields = Pick<Product, "name" | "description" | "price" | "currency" | "category" | "stock" | "active">;

/** The fields an admin may change with an update; stock changes only through stock adjustments. */
export const EDITABLE_FIELDS = ["name", "description", "price", "currency", "category", "active"] as const;
export type EditableField = (typeof EDITABLE_FIELDS)[number];
export type ProductChanges = Partial<Pick<Product, EditableField>>;

/** The product as anyone outside the catalog service sees it. */
export function productView(product: Product): ProductView {
	return {
		id: String(product._id),
		name: product.name,
		description: product.description,
		price: product.price,
		currency: product.currency,
		category: product.category,
		stock: product.stock,
		active: product.active,
		createdAt: product.createdAt,
		updatedAt: product.updatedAt,
	};
}

/** The entity to insert for a new product (one that starts below the low-stock threshold is not news). */
export function newProduct(fields: NewProductFields, now: Date, lowStockThreshold = 0): Omit<Product, "_id"> {
	const at = now.toISOString();
	return {
		name: fields.name,
		description: fields.description,
		price: fields.price,
		currency: fields.currency,
		category: fields.category,
		stock: fields.stock,
		active: fields.active,
		createdAt: at,
		updatedAt: at,
		stockMarks: [],
		lowStockReported: fields.stock < lowStockThreshold,
	};
}

/**
 * The `$set` of an update request: only the editable fields that were given (anything
 * else in the request is ignored), plus `updatedAt`; null when nothing is to change.
 */
export function productChanges(
	request: Partial<Record<string, unknown>>,
	now: Date,
): { set: ProductChanges & { updatedAt: string }; changed: EditableField[] } | null {
	const changed = EDITABLE_FIELDS.filter(field => request[field] !== undefined);
	if (changed.length === 0) return null;
	const set = Object.fromEntries(changed.map(field => [field, request[field]])) as ProductChanges;
	return { set: { ...set, updatedAt: now.toISOString() }, changed };
}

/** The `data` of product.created / product.updated / product.removed. */
export function productEventData(view: ProductView, changed?: EditableField[]): ProductEventData {
	return {
		productId: view.id,
		name: view.name,
		price: view.price,
		currency: view.currency,
		category: view.category,
		stock: view.stock,
		active: view.active,
		...(changed ? { changed } : {}),
	};
}
