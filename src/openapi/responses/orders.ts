import type { ActionDocs } from "../action-doc";
import { page, ref } from "../schemas";

export const ordersDocs: ActionDocs = {
	"orders.create": {
		summary: "Place an order and pay for it",
		description:
			"Items are priced from the catalog, their stock taken, the card charged. With an `Idempotency-Key`, a retry answers the same order (200) instead of ordering again.",
		status: 201,
		body: ref("Order"),
		headers: { Location: { description: "Where the new order is read", schema: { type: "string" } } },
		requestHeaders: {
			"Idempotency-Key": {
				description: "1 to 255 visible ASCII characters, unique per order you mean to place; the same key and user give the same order and at most one charge.",
				schema: { type: "string", pattern: "^[\\x21-\\x7e]{1,255}$" },
			},
		},
		responses: {
			200: {
				description: "A replay: this key was used for this order before",
				body: ref("Order"),
				headers: { "Idempotent-Replayed": { description: "Always `true`", schema: { const: "true" }, required: true } },
			},
			402: { description: "The card was declined (`card_declined`, `insufficient_funds`); the order is `payment_failed`" },
			409: { description: "Out of stock (`OUT_OF_STOCK`; the order is `cancelled`), or the key was used for other items (`IDEMPOTENCY_KEY_REUSED`)" },
			503: { description: "The charge's outcome is not known yet (`PAYMENT_PENDING`): the order stays `pending` and is settled; or a service is unavailable" },
		},
	},
	"orders.list": { summary: "Own orders (every order for an admin), newest first", body: page(ref("Order")) },
	"orders.get": { summary: "One order, its owner's or for an admin", body: ref("Order") },
	"orders.cancel": {
		summary: "Cancel a paid order",
		description: "Claims the order (it cannot ship then), refunds the payment and gives the stock back.",
		body: ref("Order"),
		responses: {
			202: { description: "Claimed and `cancelling`: the refund or release could not finish yet, a sweeper finishes it", body: ref("Order") },
			409: { description: "The order cannot be cancelled in its state (`INVALID_TRANSITION`, `ORDER_IN_PROGRESS`)" },
		},
	},
	"orders.setStatus": {
		summary: "Mark an order shipped or delivered",
		body: ref("Order"),
		responses: { 409: { description: "Not a move of the order's state machine (`INVALID_TRANSITION`)" } },
	},
};
