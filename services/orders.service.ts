/**
 * orders: orders and their state machine. `create` runs the order saga
 * (src/orders/place-order.ts) against catalog and payments; abandoned sagas (an instance
 * died in the middle) are settled by `recoverAbandoned`, on every instance, safely.
 */
import type { ServiceSchema } from "moleculer";
import { DbMixin, type DbMethods } from "../mixins/db.mixin";
import { productIdRule, quantityRule } from "../src/catalog/params";
import { config } from "../src/config";
import { ConflictError, InvalidInputError, NotFoundError } from "../src/errors";
import { DurableEvents, type DurableEventsMethods } from "../mixins/durable-events.mixin";
import type { BusinessEvent } from "../src/events";
import { orderView, type Order, type OrderView } from "../src/orders/order";
import { assertMove, ORDER_STATUSES, SOLD_STATUSES, type OrderStatus } from "../src/orders/order-state";
import { DuplicateOrderError, placeOrder, type OrderEventType, type OrderPorts, type PlaceOrderRequest } from "../src/orders/place-order";
import { mapPage, pageParams, type PageRequest } from "../src/pagination";
import { checkCard } from "../src/payments/cards";
import { requireUser } from "../src/auth/caller";
import type { AppContext } from "../src/types";

/** A context or the broker: what calls other services. */
type Caller = { call<T>(action: string, params?: object): Promise<T> };

type Methods = DbMethods &
	DurableEventsMethods & {
	ports(ctx: AppContext): OrderPorts;
	transition(orderId: string, from: OrderStatus, to: OrderStatus, changes?: Partial<Order>): Promise<Order | null>;
	publish(type: OrderEventType, order: Order): Promise<void>;
	visibleOrder(ctx: AppContext, id: string): Promise<Order>;
	releaseStock(caller: Caller, order: Order): Promise<void>;
	cancelPaid(order: Order, reason: string): Promise<Order>;
	recoverAbandoned(): Promise<number>;
};

type Vars = { recoveryTimer?: NodeJS.Timeout };

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

const OrdersService: ServiceSchema<{ rest: string }, Methods, Vars> = {
	name: "orders",

	mixins: [
		DurableEvents,
		DbMixin({
			collection: "orders",
			fields: {
				userId: { type: String, required: true },
				status: { type: String, required: true },
				items: { type: Array, required: true },
				total: { type: Number, required: true },
				currency: { type: String, required: true },
				idempotencyScope: { type: String, required: true },
				requestFingerprint: { type: String, required: true },
				paymentId: { type: String, default: null },
				reason: { type: String, default: null },
				history: { type: Array, default: [] },
				createdAt: { type: String, required: true },
				updatedAt: { type: String, required: true },
			},
			indexes: [
				{ fields: { idempotencyScope: 1 }, unique: true },
				{ fields: { userId: 1, createdAt: -1 } },
				{ fields: { status: 1, createdAt: 1 } },
			],
		}),
	],

	settings: {
		rest: "/orders",
	},

	dependencies: ["catalog", "payments"],

	actions: {
		/** Places an order: prices from the catalog, stock taken, card charged. Header Idempotency-Key makes it safe to retry. */
		create: {
			rest: "POST /",
			auth: "required",
			// Traces keep the items, never the card.
			tracing: { tags: { params: ["items"] } },
			params: {
				items: {
					type: "array",
					min: 1,
					max: 50,
					items: {
						type: "object",
						strict: "remove",
						// The catalog's own rules: an item the catalog would refuse is refused here, before anything is stored.
						props: { productId: productIdRule, quantity: quantityRule },
					},
				},
				payment: {
					type: "object",
					strict: "remove",
					props: {
						method: { type: "enum", values: ["card"] },
						card: {
							type: "object",
							strict: "remove",
							props: {
								number: { type: "string", min: 1, max: 32 },
								expMonth: { type: "number", integer: true },
								expYear: { type: "number", integer: true },
								cvc: { type: "string", min: 1, max: 4 },
							},
						},
					},
				},
			},
			async handler(ctx: AppContext<PlaceOrderRequest>): Promise<OrderView> {
				const key = ctx.meta.headers?.["idempotency-key"];
				if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
					const message = "Idempotency-Key must be 1 to 255 visible ASCII characters";
					throw new InvalidInputError(message, [{ field: "Idempotency-Key", message }]);
				}
				const { order, replayed } = await placeOrder(this.ports(ctx), requireUser(ctx), ctx.params, key);
				if (replayed) {
					ctx.meta.$responseHeaders = { "Idempotent-Replayed": "true" };
				} else {
					ctx.meta.$statusCode = 201;
					ctx.meta.$location = `/api/orders/${order._id}`;
				}
				return orderView(order);
			},
		},

		/** Own orders for a customer, every order for an admin; newest first. */
		list: {
			rest: "GET /",
			auth: "required",
			retryPolicy: { enabled: true },
			params: { ...pageParams, status: { type: "enum", values: [...ORDER_STATUSES], optional: true } },
			async handler(ctx: AppContext<PageRequest & { status?: OrderStatus }>) {
				const user = requireUser(ctx);
				const query: Record<string, unknown> = user.role === "admin" ? {} : { userId: user.id };
				if (ctx.params.status) query.status = ctx.params.status;
				return mapPage(await this.findPage<Order>(query, ["-createdAt"], ctx.params), orderView);
			},
		},

		get: {
			rest: "GET /:id",
			auth: "required",
			retryPolicy: { enabled: true },
			params: { id: { type: "string", max: 64 } },
			async handler(ctx: AppContext<{ id: string }>): Promise<OrderView> {
				return orderView(await this.visibleOrder(ctx, ctx.params.id));
			},
		},

		/** Cancels a paid order: refunds the payment and gives the stock back. */
		cancel: {
			rest: "POST /:id/cancel",
			auth: "required",
			params: { id: { type: "string", max: 64 } },
			async handler(ctx: AppContext<{ id: string }>): Promise<OrderView> {
				const order = await this.visibleOrder(ctx, ctx.params.id);
				if (order.status === "pending") throw new ConflictError("The order is still being placed", "ORDER_IN_PROGRESS");
				assertMove(order.status, "cancelled");
				return orderView(await this.cancelPaid(order, "cancelled_by_request"));
			},
		},

		/** Admin: the order was shipped, or delivered. */
		setStatus: {
			rest: "PATCH /:id/status",
			auth: "admin",
			params: { id: { type: "string", max: 64 }, status: { type: "enum", values: ["shipped", "delivered"] } },
			async handler(ctx: AppContext<{ id: string; status: "shipped" | "delivered" }>): Promise<OrderView> {
				const order = await this.visibleOrder(ctx, ctx.params.id);
				assertMove(order.status, ctx.params.status);
				const moved = await this.transition(order._id, order.status, ctx.params.status);
				if (!moved) throw new ConflictError("The order changed meanwhile; try again", "INVALID_TRANSITION");
				await this.publish(ctx.params.status === "shipped" ? "order.shipped" : "order.delivered", moved);
				if (moved.status === "delivered") {
					// Delivered cannot be cancelled: the stock is sold for good. A hold left behind only costs space.
					for (const { productId } of moved.items) {
						await ctx.call("catalog.settle", { orderId: moved._id, productId }).catch(err => this.logger.warn(`Settling ${productId} of order ${moved._id} failed:`, err));
					}
				}
				return orderView(moved);
			},
		},

		/** For users.summary: how many orders a user has, what they spent, the latest ones. */
		statsForUser: {
			visibility: "public",
			retryPolicy: { enabled: true },
			params: { userId: { type: "string", max: 64 }, recent: { type: "number", integer: true, min: 0, max: 50, default: 5 } },
			async handler(ctx: AppContext<{ userId: string; recent: number }>) {
				const [orderCount, sold, recent] = await Promise.all([
					this.countEntities({ userId: ctx.params.userId }),
					this.findEntities<Order>({ query: { userId: ctx.params.userId, status: { $in: SOLD_STATUSES } } }),
					this.findEntities<Order>({ query: { userId: ctx.params.userId }, sort: ["-createdAt"], limit: ctx.params.recent }),
				]);
				const totalSpent: Record<string, number> = {};
				for (const order of sold) totalSpent[order.currency] = (totalSpent[order.currency] ?? 0) + order.total;
				return { orderCount, totalSpent, recentOrders: recent.map(orderView) };
			},
		},
	},

	durableEvents: {
		/** An admin refunded the payment of a paid order: the order is cancelled and its stock given back. */
		async "payment.refunded"(this: Methods, event: BusinessEvent<{ orderId: string; reason?: string }>) {
			// A refund made by a cancel is that cancel's business, already under way.
			if (event.data.reason !== "refund_requested") return;
			const order = await this.findEntityById<Order>(event.data.orderId);
			if (order?.status === "paid") await this.cancelPaid(order, "refunded");
		},
	},

	methods: {
		/** What the saga needs from the rest of the cluster, bound to this request. */
		ports(ctx: AppContext): OrderPorts {
			return {
				cardProblems: card => {
					const check = checkCard(card, new Date(), "payment.card");
					return check.ok ? [] : check.problems;
				},
				products: ids => ctx.call("catalog.getMany", { ids }),
				reserve: async (orderId, productId, quantity) => void (await ctx.call("catalog.reserve", { orderId, productId, quantity })),
				release: async (orderId, productId, quantity) => void (await ctx.call("catalog.release", { orderId, productId, quantity })),
				charge: payment => ctx.call("payments.charge", payment),
				refundOrder: async orderId => void (await ctx.call("payments.refundOrder", { orderId })),
				insertOrder: async order => {
					const inserted = await this.insertEntityIfNew<Order>(order);
					if (!inserted) throw new DuplicateOrderError();
					return inserted;
				},
				findByScope: idempotencyScope => this.findEntity<Order>({ idempotencyScope }),
				transition: (orderId, from, to, changes) => this.transition(orderId, from, to, changes),
				publish: (type, order) => this.publish(type, order),
				sleep: ms => new Promise(resolve => setTimeout(resolve, ms)),
			};
		},

		/** One conditional update: the order moves only if it is still in `from`. */
		async transition(orderId: string, from: OrderStatus, to: OrderStatus, changes: Partial<Order> = {}) {
			const at = new Date().toISOString();
			const moved = await this.updateEntities(
				{ _id: orderId, status: from },
				{ $set: { ...changes, status: to, updatedAt: at }, $push: { history: { status: to, at } } },
			);
			return moved ? this.findEntityById<Order>(orderId) : null;
		},

		async publish(type: OrderEventType, order: Order) {
			const { _id: orderId, userId, status, total, currency, items, reason, paymentId } = order;
			await this.publishEvent(type, { orderId, userId, status, total, currency, items, reason, paymentId });
		},

		/** The order, if the caller owns it or is an admin; anyone else is told it does not exist. */
		async visibleOrder(ctx: AppContext, id: string) {
			const user = requireUser(ctx);
			const order = await this.findEntityById<Order>(id);
			if (!order || (user.role !== "admin" && order.userId !== user.id)) throw new NotFoundError("Order", id);
			return order;
		},

		/**
		 * Cancels a paid order: refund, stock back, then the state. Each step is idempotent,
		 * so a cancel that failed half-way (the provider was down) is simply asked again.
		 */
		async cancelPaid(order: Order, reason: string) {
			const broker = this.broker as unknown as Caller;
			await broker.call("payments.refundOrder", { orderId: order._id });
			await this.releaseStock(broker, order);
			const cancelled = await this.transition(order._id, "paid", "cancelled", { reason });
			if (cancelled) {
				await this.publish("order.cancelled", cancelled);
				return cancelled;
			}
			const now = (await this.findEntityById<Order>(order._id))!;
			if (now.status === "cancelled") return now;
			throw new ConflictError(`The order became ${now.status} meanwhile`, "INVALID_TRANSITION");
		},

		/** Gives back the stock the order took; the catalog releases only what the order holds. */
		async releaseStock(caller: Caller, order: Order) {
			for (const { productId, quantity } of order.items) await caller.call("catalog.release", { orderId: order._id, productId, quantity });
		},

		/**
		 * Settles orders left pending by a saga that died: paid if their payment went
		 * through, else cancelled with their stock released. Each order is claimed by one
		 * conditional update, so instances running this at once do not collide.
		 */
		async recoverAbandoned() {
			const cutoff = new Date(Date.now() - config.orders.abandonAfterMs).toISOString();
			const stale = await this.findEntities<Order>({ query: { status: "pending", createdAt: { $lt: cutoff } }, limit: 100 });
			const broker = this.broker as unknown as Caller;
			for (const order of stale) {
				const payment = await broker.call<{ id: string; status: string } | null>("payments.byOrder", { orderId: order._id });
				if (payment?.status === "succeeded") {
					const paid = await this.transition(order._id, "pending", "paid", { paymentId: payment.id });
					if (paid) await this.publish("order.paid", paid);
					continue;
				}
				// Still being charged: its outcome decides, later.
				if (payment?.status === "processing") continue;
				const cancelled = await this.transition(order._id, "pending", "cancelled", { reason: "abandoned" });
				if (!cancelled) continue;
				await broker.call("payments.refundOrder", { orderId: order._id });
				await this.releaseStock(broker, cancelled);
				await this.publish("order.cancelled", cancelled);
				this.logger.warn(`Order ${order._id} was abandoned while pending; cancelled and its stock released`);
			}
			return stale.length;
		},
	},

	started() {
		const every = Math.min(30_000, Math.max(1000, config.orders.abandonAfterMs / 2));
		this.recoveryTimer = setInterval(() => {
			this.recoverAbandoned().catch(err => this.logger.error("Recovery of abandoned orders failed:", err));
		}, every);
	},

	stopped() {
		clearInterval(this.recoveryTimer);
	},
};

export default OrdersService;
