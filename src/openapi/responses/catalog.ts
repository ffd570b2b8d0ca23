import type { ActionDocs } from "../action-doc";
import { page, ref } from "../schemas";

const created = { Location: { description: "Where the new product is read", schema: { type: "string" } } };

export const catalogDocs: ActionDocs = {
	"catalog.list": {
		summary: "Browse active products",
		description: "`search` matches name and description without case; `sort` is a field, or with `-` for descending.",
		body: page(ref("Product")),
	},
	"catalog.get": { summary: "One active product", body: ref("Product") },
	"catalog.create": { summary: "Add a product", status: 201, body: ref("Product"), headers: created },
	"catalog.update": { summary: "Change a product's details", description: "Stock changes through `POST /api/products/{id}/stock`.", body: ref("Product") },
	"catalog.remove": { summary: "Withdraw a product", description: "Kept for past orders; removing twice is harmless.", body: ref("Product") },
	"catalog.adjustStock": {
		summary: "Add or take stock",
		body: ref("Product"),
		responses: { 409: { description: "The stock would go below zero (`INSUFFICIENT_STOCK`)" } },
	},
};
