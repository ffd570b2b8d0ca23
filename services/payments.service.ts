/**
 * payments: charges, refunds and the provider calls behind them. One payment per order.
 * A payment keeps the card's brand and last four digits: never its number or CVC.
 * The rules live in src/payments/ (cards, charge, refund, provider); this file wires them.
 */
import type { ServiceSchema } from "moleculer";
import { DbMixin, type DbMethods } from "../mixins/db.mixin";
import { config } from "../src/config";
import { NotFoundError } from "../src/errors";
import { DurableEvents, type DurableEventsMethods } from "../mixins/durable-events.mixin";
import { amountRule, currencyRule } from "../src/money";
import { mapPage, pageParams, type PageRequest } from "../src/pagination";
import { chargeOrder, type ChargeCommand } from "../src/payments/charge";
import { canSeePayment, publicPayment, type Payment, type PaymentPorts, type PaymentView } from "../src/payments/payment";
import { providerNamed, type PaymentProvider } from "../src/payments/provider";
import { refundOrderPayment, refundPayment } from "../src/payments/refund";
import { requireUser } from "../src/auth/caller";
import type { AppContext } from "../src/types";

type Methods = DbMethods &
	DurableEventsMethods & {
	/** The store, provider and event sender the charge and refund flows work through. */
	paymentPorts(): PaymentPorts;
	/** The payment if the caller may see it; a 404 otherwise, whether or not it exists. */
	visiblePayment(ctx: AppContext, id: string): Promise<Payment>;
};

type Vars = { provider: PaymentProvider };

const idRule = { type: "string", min: 1, max: 64 } as const;

const PaymentsService: ServiceSchema<{ rest: string }, Methods, Vars> = {
	name: "payments",

	mixins: [
		DurableEvents,
		DbMixin({
			collection: "payments",
			fields: {
				orderId: { type: String, required: true },
				userId: { type: String, required: true },
				amount: { type: Number, required: true },
				currency: { type: String, required: true },
				status: { type: String, required: true },
				provider: { type: String, required: true },
				providerRef: { type: String },
				refundRef: { type: String },
				// Brand, last four and expiry only: the schema has no place for the number or CVC.
				card: {
					brand: { type: String, required: true },
					last4: { type: String, required: true },
					expMonth: { type: Number, required: true },
					expYear: { type: Number, required: true },
				},
				failureReason: { type: String },
				refundedAmount: { type: Number, required: true, default: 0 },
				createdAt: { type: String, required: true },
				updatedAt: { type: String, required: true },
			},
			indexes: [
				// One payment per order: the lock that keeps a second charge of an order from the provider.
				{ fields: { orderId: 1 }, unique: true },
				{ fields: { userId: 1 } },
			],
		}),
	],

	settings: {
		rest: "/payments",
	},

	actions: {
		/** Called by orders. Answers the succeeded payment; 422 bad card, 402 declined, 409 in progress, 502 provider down. */
		charge: {
			visibility: "public",
			params: {
				orderId: idRule,
				userId: idRule,
				amount: { ...amountRule, min: 1 },
				currency: currencyRule,
				card: {
					type: "object",
					props: {
						number: { type: "string", max: 64 },
						expMonth: { type: "number", integer: true, convert: true },
						expYear: { type: "number", integer: true, convert: true },
						cvc: { type: "string", max: 8 },
					},
				},
			},
			// Traces keep the order, never the card.
			tracing: { tags: { params: ["orderId", "userId", "amount", "currency"] } },
			async handler(ctx: AppContext<ChargeCommand>): Promise<PaymentView> {
				return publicPayment(await chargeOrder(this.paymentPorts(), ctx.params));
			},
		},

		/** Full refund of a succeeded payment; 409 NOT_REFUNDABLE otherwise. The gateway checks the admin role. */
		refund: {
			rest: "POST /:id/refund",
			auth: "admin",
			params: { id: idRule },
			async handler(ctx: AppContext<{ id: string }>): Promise<PaymentView> {
				const payment = await this.findEntityById<Payment>(ctx.params.id);
				if (!payment) throw new NotFoundError("Payment", ctx.params.id);
				return publicPayment(await refundPayment(this.paymentPorts(), payment));
			},
		},

		/** For orders' cancel: refunds the order's payment if it succeeded; null if there is none to refund. */
		refundOrder: {
			visibility: "public",
			params: { orderId: idRule },
			async handler(ctx: AppContext<{ orderId: string }>): Promise<PaymentView | null> {
				const refunded = await refundOrderPayment(this.paymentPorts(), ctx.params.orderId);
				return refunded && publicPayment(refunded);
			},
		},

		/** A customer's own payments, or every payment for an admin; newest first. */
		list: {
			rest: "GET /",
			auth: "required",
			retryPolicy: { enabled: true },
			params: { ...pageParams },
			async handler(ctx: AppContext<PageRequest>) {
				const user = requireUser(ctx);
				const query = user.role === "admin" ? {} : { userId: user.id };
				return mapPage(await this.findPage<Payment>(query, ["-createdAt"], ctx.params), publicPayment);
			},
		},

		/** The owner or an admin; 404 for anyone else. */
		get: {
			rest: "GET /:id",
			auth: "required",
			retryPolicy: { enabled: true },
			params: { id: idRule },
			async handler(ctx: AppContext<{ id: string }>): Promise<PaymentView> {
				return publicPayment(await this.visiblePayment(ctx, ctx.params.id));
			},
		},

		/** The payment of an order, or null (for orders and users.summary). */
		byOrder: {
			visibility: "public",
			params: { orderId: idRule },
			async handler(ctx: AppContext<{ orderId: string }>): Promise<PaymentView | null> {
				const payment = await this.findEntity<Payment>({ orderId: ctx.params.orderId });
				return payment && publicPayment(payment);
			},
		},

		/** The newest payments of a user (for users.summary). */
		listForUser: {
			visibility: "public",
			params: {
				userId: idRule,
				limit: { type: "number", integer: true, min: 1, max: 50, default: 5, convert: true },
			},
			async handler(ctx: AppContext<{ userId: string; limit: number }>): Promise<PaymentView[]> {
				const { userId, limit } = ctx.params;
				const payments = await this.findEntities<Payment>({ query: { userId }, sort: ["-createdAt"], limit });
				return payments.map(publicPayment);
			},
		},
	},

	methods: {
		paymentPorts(): PaymentPorts {
			return {
				provider: this.provider,
				store: {
					insertIfNew: payment => this.insertEntityIfNew<Payment>(payment),
					byId: id => this.findEntityById<Payment>(id),
					byOrder: orderId => this.findEntity<Payment>({ orderId }),
					transition: async (id, from, changes) => {
						const changed = await this.updateEntities({ _id: id, status: from }, { $set: changes });
						return changed > 0 ? this.findEntityById<Payment>(id) : null;
					},
				},
				publish: (type, data) => this.publishEvent(type, data),
				now: () => new Date(),
				warn: message => this.logger.warn(message),
			};
		},

		async visiblePayment(ctx: AppContext, id: string): Promise<Payment> {
			const payment = await this.findEntityById<Payment>(id);
			if (!payment || !canSeePayment(requireUser(ctx), payment)) throw new NotFoundError("Payment", id);
			return payment;
		},

	},

	created() {
		// An unknown PAYMENT_PROVIDER stops the node here, before it takes any charge.
		this.provider = providerNamed(config.payments.provider);
	},
};

export default PaymentsService;
