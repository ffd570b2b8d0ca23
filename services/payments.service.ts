/**
 * payments: charges, refunds and the provider calls behind them. One payment per order.
 * A payment keeps the card's brand and last four digits: never its number or CVC.
 * The rules live in src/payments/ (cards, charge, refund, provider); this file wires them.
 * A charge or a refund whose answer was lost is finished by the sweeper on every instance.
 */
import type { ServiceSchema } from "moleculer";
import { DbMixin, type DbMethods } from "../mixins/db.mixin";
import { config } from "../src/config";
import { NotFoundError } from "../src/errors";
import { DurableEvents, type DurableEventsMethods } from "../mixins/durable-events.mixin";
import { withOutbox } from "../src/durable-events/outbox";
import { newEvent } from "../src/events";
import { amountRule, currencyRule } from "../src/money";
import { mapPage, pageParams, type PageRequest } from "../src/pagination";
import { cardRule } from "../src/payments/cards";
import { chargeOrder, settleProcessing, type ChargeCommand } from "../src/payments/charge";
import { paymentEvent, publicPayment, type Payment, type PaymentEventType, type PaymentPorts, type PaymentView } from "../src/payments/payment";
import type { PaymentProvider } from "../src/payments/provider";
import { providerNamed } from "../src/payments/providers";
import { finishRefund, refundOrderPayment, refundPayment } from "../src/payments/refund";
import type { RefundReason } from "../src/events";
import { canSee, requireUser, visibleTo } from "../src/auth/caller";
import { idFromKey } from "../src/ids";
import { idRule } from "../src/params";
import type { AppContext } from "../src/types";

type Methods = DbMethods &
	DurableEventsMethods & {
		/** The store, provider and event sender the charge and refund flows work through. */
		paymentPorts(): PaymentPorts;
		/** The payment if the caller may see it; a 404 otherwise, whether or not it exists. */
		visiblePayment(ctx: AppContext, id: string): Promise<Payment>;
		/** Finishes charges and refunds whose answers were lost. */
		sweep(): Promise<void>;
	};

type Vars = { provider: PaymentProvider; sweepTimer?: NodeJS.Timeout };

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
				refundReason: { type: String },
				refundedAmount: { type: Number, required: true, default: 0 },
				createdAt: { type: String, required: true },
				updatedAt: { type: String, required: true },
			},
			indexes: [
				// One payment per order, the lock that keeps a second charge of an order from the provider: the payment's
				// _id is derived from its order (src/ids.ts); this index guards payments an earlier version wrote with
				// random ids, in MongoDB and in a file moved in from NeDB.
				{ fields: { orderId: 1 }, unique: true, legacy: true },
				{ fields: { userId: 1 } },
				{ fields: { status: 1, updatedAt: 1 } },
			],
			outbox: true,
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
				card: cardRule,
			},
			async handler(ctx: AppContext<ChargeCommand>): Promise<PaymentView> {
				return publicPayment(await chargeOrder(this.paymentPorts(), ctx.params));
			},
		},

		/**
		 * Admin: full refund of a succeeded payment; 409 NOT_REFUNDABLE otherwise. A paid order
		 * is cancelled with it (claimed first, so it cannot ship meanwhile; its stock goes
		 * back). 200 when refunded; 202 while the provider has not confirmed it yet.
		 */
		refund: {
			rest: "POST /:id/refund",
			auth: "admin",
			params: { id: idRule },
			async handler(ctx: AppContext<{ id: string }>): Promise<PaymentView> {
				const payment = await this.findEntityById<Payment>(ctx.params.id);
				if (!payment) throw new NotFoundError("Payment", ctx.params.id);
				if (payment.status !== "succeeded") return publicPayment(await refundPayment(this.paymentPorts(), payment, "refund_requested"));
				const { cancelling } = await ctx.call<{ cancelling: boolean }, { orderId: string }>("orders.cancelForRefund", { orderId: payment.orderId });
				const refunded = cancelling
					? (await this.findEntityById<Payment>(payment._id))!
					: await refundPayment(this.paymentPorts(), payment, "refund_requested");
				if (refunded.status !== "refunded") ctx.meta.$statusCode = 202;
				return publicPayment(refunded);
			},
		},

		/** For orders: refunds the order's payment if it succeeded, or finishes its refund; null if there is none to refund. */
		refundOrder: {
			visibility: "public",
			params: { orderId: idRule, reason: { type: "enum", values: ["refund_requested", "order_cancelled"] } },
			async handler(ctx: AppContext<{ orderId: string; reason: RefundReason }>): Promise<PaymentView | null> {
				const refunded = await refundOrderPayment(this.paymentPorts(), ctx.params.orderId, ctx.params.reason);
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
				const query = visibleTo(user);
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
				const payment = await this.findEntityById<Payment>(idFromKey(`payment:${ctx.params.orderId}`));
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
					// One payment per order: its id comes from the order's, so a second charge of the order fails on _id.
					insertIfNew: payment => this.insertEntityIfNew<Payment>({ _id: idFromKey(`payment:${payment.orderId}`), ...payment }),
					byId: id => this.findEntityById<Payment>(id),
					byOrder: orderId => this.findEntityById<Payment>(idFromKey(`payment:${orderId}`)),
					transition: async (payment, changes, event?: PaymentEventType) => {
						const after = { ...payment, ...changes };
						// (paymentEvent's overloads pick the payload by type; the union goes through the implementation's signature.)
						const events = event ? [newEvent(event, paymentEvent(after, event as "payment.succeeded"))] : [];
						const moved = await this.updateEntityIf<Payment>({ _id: payment._id, status: payment.status }, withOutbox({ $set: changes }, events));
						this.relayOwed(moved);
						return moved;
					},
				},
				providerTimeoutMs: config.payments.providerTimeoutMs,
				unknownAfterMs: config.payments.unknownAfterMs,
				now: () => new Date(),
				warn: message => this.logger.warn(message),
			};
		},

		async sweep() {
			const ports = this.paymentPorts();
			const stale = { $lt: new Date(Date.now() - config.sweeper.graceMs).toISOString() };
			// Oldest first; one that fails is touched, so it waits its turn again behind the others.
			const later = (payment: Payment, what: string) => async (err: unknown) => {
				this.logger.warn(`${what} of payment ${payment._id} is not finished yet: ${String(err)}`);
				await this.updateEntities({ _id: payment._id, status: payment.status }, { $set: { updatedAt: new Date().toISOString() } });
			};
			for (const payment of await this.findEntities<Payment>({ query: { status: "processing", updatedAt: stale }, sort: ["updatedAt"], limit: 100 })) {
				const settled = await settleProcessing(ports, payment).catch(later(payment, "The charge"));
				if (settled) this.logger.warn(`Payment ${payment._id} was left processing; the provider says it ${settled.status}`);
			}
			for (const payment of await this.findEntities<Payment>({ query: { status: "refunding", updatedAt: stale }, sort: ["updatedAt"], limit: 100 })) {
				await finishRefund(ports, payment).catch(later(payment, "The refund"));
			}
		},

		async visiblePayment(ctx: AppContext, id: string): Promise<Payment> {
			const payment = await this.findEntityById<Payment>(id);
			if (!payment || !canSee(requireUser(ctx), payment.userId)) throw new NotFoundError("Payment", id);
			return payment;
		},
	},

	created() {
		// An unknown PAYMENT_PROVIDER, or the sandbox in production unasked, stops the node here, before it takes any charge.
		this.provider = providerNamed(config.payments.provider, {
			isProduction: config.isProduction,
			allowSandboxInProduction: config.payments.allowSandboxInProduction,
			unknownAfterMs: config.payments.unknownAfterMs,
		});
	},

	started() {
		this.sweepTimer = setInterval(() => {
			this.sweep().catch(err => this.logger.warn("The payments sweeper will try again:", String(err)));
		}, config.sweeper.intervalMs);
	},

	stopped() {
		clearInterval(this.sweepTimer);
	},
};

export default PaymentsService;
