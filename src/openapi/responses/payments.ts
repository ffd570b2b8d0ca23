import type { ActionDocs } from "../action-doc";
import { page, ref } from "../schemas";

export const paymentsDocs: ActionDocs = {
	"payments.list": { summary: "Own payments (every payment for an admin), newest first", body: page(ref("Payment")) },
	"payments.get": { summary: "One payment, its owner's or for an admin", body: ref("Payment") },
	"payments.refund": {
		summary: "Refund a payment in full",
		description: "The payment's paid order is cancelled with it and its stock given back.",
		body: ref("Payment"),
		responses: {
			202: { description: "Accepted: the provider has not confirmed the refund yet (`refunding`); it is finished later", body: ref("Payment") },
			409: { description: "The payment cannot be refunded (`NOT_REFUNDABLE`)" },
		},
	},
};
