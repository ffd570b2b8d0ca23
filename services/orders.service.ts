/**
 * orders: orders and their state machine. `create` runs the order saga
 * (src/orders/place-order.ts) against catalog and payments. What an order owes afterwards
 * (its events, a refund, stock to give back) is recorded in the same write that makes it
 * owed and finished by src/orders/settle-order.ts: at once by the request, or by the
 * sweeper that runs on every instance when the request could not.
 */
import type { ServiceSchema } from "moleculer";
import { DbMixin, type DbMethods } from "../mixins/db.mixin";
import { productIdRule, quantityRule } from "../src/catalog/params";
import { config } from "../src/config";
import { ConflictError, InvalidInputError, NotFoundError } from "../src/errors";
import { DurableEvents, type DurableEventsMethods } from "../mixins/durable-events.mixin";
import { outboxOnInsert, withOutbox } from "../src/durable-events/outbox";
import { newEvent, type RefundReason } from "../src/events";
import { orderEventData, orderView, type Order, type OrderView } from "../src/orders/order";
import { assertMove, ORDER_STATUSES, SOLD_STATUSES, type OrderStatus } from "../src/orders/order-state";
import { DuplicateOrderError, placeOrder, type PlaceOrderRequest } from "../src/orders/place-order";
import type { OrderEventType, OrderPorts, PaymentOutcome, SettlePorts } from "../src/orders/ports";
import { finishCancel, releaseOwedStock, settleAbandoned } from "../src/orders/settle-order";
import { mapPage, pageParams, type PageRequest } from "../src/pagination";
import { idFromKey } from "../src/ids";
import { idRule } from "../src/params";
import { cardRule, checkCard } from "../src/payments/cards";
import { canSee, requireUser, visibleTo } from "../src/auth/caller";
import type { AppContext } from "../src/types";

type Methods = DbMethods &
	DurableEventsMethods & {
		/** What the saga needs, its calls on the request's own budget. */
		ports(ctx: AppContext): OrderPorts;
		/** What settling needs: fresh calls through the broker, never a request's spent budget. */
		settlePorts(): SettlePorts;
		transition(order: Order, to: OrderStatus, changes?: Partial<Order>, event?: OrderEventType): Promise<Order | null>;
		visibleOrder(ctx: AppContext, id: string): Promise<Order>;
		/** Claims a paid order for cancelling and finishes the cancel if it can; null when the order was not paid. */
		claimCancel(order: Order, reason: "cancelled_by_request" | "refunded"): Promise<Order | null>;
		/** Finishes whatever orders owe that their requests could not: abandoned sagas, cancels, stock. */
		sweep(): Promise<void>;
	};

type Vars = { sweepTimer?: NodeJS.Timeout };

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
				releaseOwedAfter: { type: String, default: undefined },
				history: { type: Array, default: [] },
				createdAt: { type: String, required: true },
				updatedAt: { type: String, required: true },
			},
			indexes: [
				// The order's _id is derived from its idempotency scope (src/ids.ts), which makes it unique; this index
				// guards orders an earlier version wrote with random ids, in MongoDB and in a file moved in from NeDB.
				{ fields: { idempotencyScope: 1 }, unique: true, legacy: true },
				{ fields: { userId: 1, createdAt: -1 } },
				{ fields: { status: 1, createdAt: 1 } },
				{ fields: { releaseOwedAfter: 1 }, sparse: true },
			],
			outbox: true,
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
						card: cardRule,
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
				const query: Record<string, unknown> = visibleTo(user);
				if (ctx.params.status) query.status = ctx.params.status;
				return mapPage(await this.findPage<Order>(query, ["-createdAt"], ctx.params), orderView);
			},
		},

		get: {
			rest: "GET /:id",
			auth: "required",
			retryPolicy: { enabled: true },
			params: { id: idRule },
			async handler(ctx: AppContext<{ id: string }>): Promise<OrderView> {
				return orderView(await this.visibleOrder(ctx, ctx.params.id));
			},
		},

		/**
		 * Cancels a paid order: claims it (nobody can ship it then), refunds the payment and
		 * gives the stock back. 200 when that is done; 202 with status "cancelling" when a
		 * step could not finish yet (the provider is down, say): the sweeper finishes it.
		 */
		cancel: {
			rest: "POST /:id/cancel",
			auth: "required",
			params: { id: idRule },
			async handler(ctx: AppContext<{ id: string }>): Promise<OrderView> {
				const order = await this.visibleOrder(ctx, ctx.params.id);
				if (order.status === "pending") throw new ConflictError("The order is still being placed", "ORDER_IN_PROGRESS");
				if (order.status !== "cancelling") assertMove(order.status, "cancelling");
				const settled = order.status === "cancelling" ? order : await this.claimCancel(order, "cancelled_by_request");
				if (!settled) {
					const now = (await this.findEntityById<Order>(order._id))!;
					throw new ConflictError(`The order became ${now.status} meanwhile`, "INVALID_TRANSITION");
				}
				if (settled.status === "cancelling") ctx.meta.$statusCode = 202;
				return orderView(settled);
			},
		},

		/** Admin: the order was shipped (only a paid order, never one being cancelled), or delivered. */
		setStatus: {
			rest: "PATCH /:id/status",
			auth: "admin",
			params: { id: idRule, status: { type: "enum", values: ["shipped", "delivered"] } },
			async handler(ctx: AppContext<{ id: string; status: "shipped" | "delivered" }>): Promise<OrderView> {
				const order = await this.visibleOrder(ctx, ctx.params.id);
				assertMove(order.status, ctx.params.status);
				const moved = await this.transition(order, ctx.params.status, {}, ctx.params.status === "shipped" ? "order.shipped" : "order.delivered");
				if (!moved) throw new ConflictError("The order changed meanwhile; try again", "INVALID_TRANSITION");
				if (moved.status === "delivered") {
					// Delivered cannot be cancelled: the stock is sold for good. A hold left behind only costs space.
					for (const { productId } of moved.items) {
						await this.broker
							.call("catalog.settle", { orderId: moved._id, productId })
							.catch(err => this.logger.warn(`Settling ${productId} of order ${moved._id} failed:`, err));
					}
				}
				return orderView(moved);
			},
		},

		/**
		 * For an admin's refund (payments.refund): a paid order is claimed for cancelling first,
		 * so that it cannot be shipped while its money goes back, and then cancelled and
		 * restocked. Answers whether the order took the refund over; when it did not (it is
		 * shipped, delivered or cancelled already, or unknown), payments refunds the payment alone.
		 */
		cancelForRefund: {
			visibility: "public",
			params: { orderId: idRule },
			async handler(ctx: AppContext<{ orderId: string }>): Promise<{ cancelling: boolean }> {
				const order = await this.findEntityById<Order>(ctx.params.orderId);
				// Its saga is still running: it may yet mark the order paid, so it is not refunded under it.
				if (order?.status === "pending") throw new ConflictError("The order is still being placed", "ORDER_IN_PROGRESS");
				if (order?.status === "cancelling") return { cancelling: true };
				if (order?.status !== "paid") return { cancelling: false };
				return { cancelling: (await this.claimCancel(order, "refunded")) !== null };
			},
		},

		/** For the catalog's reconciliation of stock holds: the status of these orders (unknown ids are left out). */
		statusesOf: {
			visibility: "public",
			retryPolicy: { enabled: true },
			params: { ids: { type: "array", items: idRule, min: 1, max: 100 } },
			async handler(ctx: AppContext<{ ids: string[] }>): Promise<{ id: string; status: OrderStatus }[]> {
				const ids = ctx.params.ids.filter(id => this.isValidId(id));
				const orders = await Promise.all(ids.map(id => this.findEntityById<Order>(id)));
				return orders.flatMap(order => (order ? [{ id: order._id, status: order.status }] : []));
			},
		},

		/** For users.summary: how many orders a user has, what they spent, the latest ones. */
		statsForUser: {
			visibility: "public",
			retryPolicy: { enabled: true },
			params: { userId: idRule, recent: { type: "number", integer: true, min: 0, max: 50, default: 5 } },
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
		/** A charge that went through for an order that had been given up meanwhile goes back. */
		async "payment.succeeded"(event) {
			const order = await this.findEntityById<Order>(event.data.orderId);
			if (order?.status === "cancelled" || order?.status === "payment_failed") {
				await this.settlePorts().refundOrder(order._id, "order_cancelled");
				this.logger.warn(`Order ${order._id} was ${order.status} when its charge went through; the charge was refunded`);
			}
		},
	},

	methods: {
		ports(ctx: AppContext): OrderPorts {
			return {
				...this.settlePorts(),
				cardProblems: card => {
					const check = checkCard(card, new Date(), "payment.card");
					return check.ok ? [] : check.problems;
				},
				products: ids => ctx.call("catalog.getMany", { ids }),
				reserve: async (orderId, productId, quantity) => void (await ctx.call("catalog.reserve", { orderId, productId, quantity })),
				charge: payment => ctx.call("payments.charge", payment),
				insertOrder: async fields => {
					const _id = idFromKey(`order:${fields.idempotencyScope}`);
					const created = newEvent("order.created", orderEventData({ _id, ...fields }));
					const inserted = await this.insertEntityIfNew<Order>({ _id, ...fields, ...outboxOnInsert([created]) });
					if (!inserted) throw new DuplicateOrderError();
					this.relayOwed(inserted);
					return inserted;
				},
				findByScope: idempotencyScope => this.findEntityById<Order>(idFromKey(`order:${idempotencyScope}`)),
				sleep: ms => new Promise(resolve => setTimeout(resolve, ms)),
			};
		},

		settlePorts(): SettlePorts {
			const { broker } = this;
			return {
				transition: (order, to, changes, event) => this.transition(order, to, changes, event),
				findById: id => this.findEntityById<Order>(id),
				clearReleaseOwed: async order =>
					(await this.updateEntities({ _id: order._id, releaseOwedAfter: order.releaseOwedAfter }, { $unset: { releaseOwedAfter: "" } })) > 0,
				release: async (orderId, productId, quantity) => void (await broker.call("catalog.release", { orderId, productId, quantity })),
				refundOrder: async (orderId: string, reason: RefundReason) => void (await broker.call("payments.refundOrder", { orderId, reason })),
				paymentOf: orderId => broker.call<PaymentOutcome, { orderId: string }>("payments.byOrder", { orderId }),
				now: () => new Date(),
				releaseGraceMs: Math.max(config.sweeper.graceMs, 2 * config.broker.requestTimeout),
				warn: message => this.logger.warn(message),
			};
		},

		async transition(order: Order, to: OrderStatus, changes: Partial<Order> = {}, event?: OrderEventType) {
			const at = new Date().toISOString();
			const events = event ? [newEvent(event, orderEventData({ ...order, ...changes, status: to, updatedAt: at }))] : [];
			// A change to undefined takes the field off.
			const unset = Object.fromEntries(Object.entries(changes).flatMap(([field, value]) => (value === undefined ? [[field, ""]] : [])));
			const set = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
			const moved = await this.updateEntityIf<Order>(
				{ _id: order._id, status: order.status },
				withOutbox(
					{ $set: { ...set, status: to, updatedAt: at }, ...(Object.keys(unset).length > 0 && { $unset: unset }), $push: { history: { status: to, at } } },
					events,
				),
			);
			this.relayOwed(moved);
			return moved;
		},

		/** The order, if the caller owns it or is an admin; anyone else is told it does not exist. */
		async visibleOrder(ctx: AppContext, id: string) {
			const user = requireUser(ctx);
			const order = await this.findEntityById<Order>(id);
			if (!order || !canSee(user, order.userId)) throw new NotFoundError("Order", id);
			return order;
		},

		async claimCancel(order: Order, reason: "cancelled_by_request" | "refunded") {
			const claimed = await this.transition(order, "cancelling", { reason });
			if (!claimed) {
				const now = await this.findEntityById<Order>(order._id);
				return now?.status === "cancelling" || now?.status === "cancelled" ? now : null;
			}
			try {
				return await finishCancel(this.settlePorts(), claimed);
			} catch (err) {
				this.logger.warn(`Cancelling order ${order._id} is not finished yet (${String(err)}); the sweeper finishes it`);
				return claimed;
			}
		},

		async sweep() {
			const ports = this.settlePorts();
			const now = Date.now();
			const before = (ms: number) => new Date(now - ms).toISOString();
			const work: [string, Order[], (order: Order) => Promise<unknown>][] = [
				[
					"settling an abandoned order",
					await this.findEntities<Order>({ query: { status: "pending", createdAt: { $lt: before(config.orders.abandonAfterMs) } }, limit: 100 }),
					order => settleAbandoned(ports, order),
				],
				[
					"finishing a cancel",
					await this.findEntities<Order>({
						query: { status: "cancelling", updatedAt: { $lt: before(config.sweeper.graceMs) } },
						sort: ["updatedAt"],
						limit: 100,
					}),
					async order => {
						// One that fails is touched, so it waits its turn again behind the others.
						await finishCancel(ports, order).catch(async err => {
							await this.updateEntities({ _id: order._id, status: "cancelling" }, { $set: { updatedAt: new Date().toISOString() } });
							throw err;
						});
					},
				],
				[
					"giving stock back",
					await this.findEntities<Order>({ query: { releaseOwedAfter: { $lt: new Date(now).toISOString() } }, limit: 100 }),
					order => releaseOwedStock(ports, order),
				],
			];
			for (const [what, orders, settle] of work) {
				for (const order of orders) {
					await settle(order).catch(err => this.logger.warn(`${what}: order ${order._id} is not settled yet (${String(err)}); trying again later`));
				}
			}
		},
	},

	started() {
		this.sweepTimer = setInterval(() => {
			this.sweep().catch(err => this.logger.warn("The order sweeper will try again:", String(err)));
		}, config.sweeper.intervalMs);
	},

	stopped() {
		clearInterval(this.sweepTimer);
	},
};

export default OrdersService;
