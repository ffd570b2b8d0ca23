/**
 * notifications: each user's inbox, and the emails that go with it. Business events arrive
 * through the durable-events mixin, at least once; a notification is stored with the
 * event's id (unique `<eventId>:<userId>`), so a redelivery changes nothing. The rules
 * live in src/notifications/ (templates, delivery, mailer); this file wires them.
 */
import { randomUUID } from "node:crypto";
import type { ServiceSchema } from "moleculer";
import { DbMixin, type DbMethods } from "../mixins/db.mixin";
import { DurableEvents, type DurableEventsMethods } from "../mixins/durable-events.mixin";
import { config } from "../src/config";
import { errorType, NotFoundError } from "../src/errors";
import type { BusinessEvent } from "../src/events";
import { broadcast, notifyUser, type DeliveryPorts, type Recipient } from "../src/notifications/delivery";
import { createMailer, type Mailer } from "../src/notifications/mailer";
import { notificationView, type Message, type Notification, type NotificationView } from "../src/notifications/notification";
import {
	orderMessage,
	promotionMessage,
	refundMessage,
	welcomeMessage,
	type OrderEventData,
	type OrderNoticeType,
	type PromotionCreatedData,
} from "../src/notifications/templates";
import { mapPage, pageParams, type Page, type PageRequest } from "../src/pagination";
import { requireUser } from "../src/auth/caller";
import { idRule } from "../src/params";
import type { AppContext } from "../src/types";

type Methods = DbMethods &
	DurableEventsMethods & {
		/** The store, users and mailer that src/notifications/delivery.ts works through. */
		deliveryPorts(): DeliveryPorts;
		/** Notifies the user the event is about (the order's or payment's owner, the new user). */
		notifyOwner(event: BusinessEvent<{ userId: string }>, message: Message, recipient?: Recipient): Promise<void>;
		sendPromotion(event: BusinessEvent<PromotionCreatedData>): Promise<void>;
	};

type Vars = { mailer: Mailer };

const ORDER_NOTICES: OrderNoticeType[] = ["order.paid", "order.payment_failed", "order.cancelled", "order.shipped", "order.delivered"];

const NotificationsService: ServiceSchema<{ rest: string }, Methods, Vars> = {
	name: "notifications",

	// DurableEvents first: Moleculer starts mixins last-listed first, so the store is connected
	// and its unique index built before the first event is taken from the bus.
	mixins: [
		DurableEvents,
		DbMixin({
			collection: "notifications",
			fields: {
				userId: { type: String, required: true },
				kind: { type: String, required: true },
				title: { type: String, required: true },
				body: { type: String, required: true },
				read: { type: Boolean, required: true, default: false },
				eventId: { type: String, required: true },
				dedupKey: { type: String, required: true },
				createdAt: { type: String, required: true },
			},
			indexes: [
				// One notification per event and user: a redelivered event stores nothing.
				{ fields: { dedupKey: 1 }, unique: true },
				// A user's page, newest first, and their unread ones (each serves a query on userId alone too).
				{ fields: { userId: 1, createdAt: -1 } },
				{ fields: { userId: 1, read: 1 } },
			],
		}),
	],

	settings: {
		// Routes below are written in full (/notifications/..., /promotions) under the gateway's /api.
		rest: "/",
	},

	actions: {
		/** The caller's notifications, newest first, with how many are unread. */
		list: {
			rest: "GET /notifications",
			auth: "required",
			retryPolicy: { enabled: true },
			params: { ...pageParams },
			async handler(ctx: AppContext<PageRequest>): Promise<Page<NotificationView> & { unread: number }> {
				const userId = requireUser(ctx).id;
				const [page, unread] = await Promise.all([
					this.findPage<Notification>({ userId }, ["-createdAt"], ctx.params),
					this.countEntities({ userId, read: false }),
				]);
				return { ...mapPage(page, notificationView), unread };
			},
		},

		/** Marks one of the caller's notifications read; anyone else's is a 404. */
		markRead: {
			rest: "POST /notifications/:id/read",
			auth: "required",
			params: { id: idRule },
			async handler(ctx: AppContext<{ id: string }>): Promise<NotificationView> {
				const userId = requireUser(ctx).id;
				const found = await this.findEntityById<Notification>(ctx.params.id);
				if (!found || found.userId !== userId) throw new NotFoundError("Notification", ctx.params.id);
				if (found.read) return notificationView(found);
				const saved = await this.updateEntityById<Notification>(found._id, { $set: { read: true } });
				if (!saved) throw new NotFoundError("Notification", ctx.params.id);
				return notificationView(saved);
			},
		},

		/** Marks every unread notification of the caller read. */
		markAllRead: {
			rest: "POST /notifications/read-all",
			auth: "required",
			async handler(ctx: AppContext): Promise<{ updated: number }> {
				const userId = requireUser(ctx).id;
				return { updated: await this.updateEntities({ userId, read: false }, { $set: { read: true } }) };
			},
		},

		/** Admin: a message for every user. Answers 202 at once; the promotion.created handler delivers it in batches. */
		broadcastPromotion: {
			rest: "POST /promotions",
			auth: "admin",
			params: {
				title: { type: "string", trim: true, min: 1, max: 120 },
				message: { type: "string", trim: true, min: 1, max: 2000 },
			},
			async handler(ctx: AppContext<{ title: string; message: string }>): Promise<{ promotionId: string }> {
				const promotionId = randomUUID();
				await this.publishEvent("promotion.created", { promotionId, title: ctx.params.title, message: ctx.params.message });
				ctx.meta.$statusCode = 202;
				return { promotionId };
			},
		},
	},

	durableEvents: {
		async "user.registered"(event) {
			const { userId, email, name } = event.data;
			await this.notifyOwner(event, welcomeMessage(event.data), { id: userId, email, name });
		},

		...Object.fromEntries(
			ORDER_NOTICES.map(type => [
				type,
				async function (this: Methods, event: BusinessEvent<OrderEventData>) {
					await this.notifyOwner(event, orderMessage(type, event.data));
				},
			]),
		),

		async "payment.refunded"(event) {
			await this.notifyOwner(event, refundMessage(event.data));
		},

		async "promotion.created"(event) {
			await this.sendPromotion(event);
		},
	},

	methods: {
		deliveryPorts(): DeliveryPorts {
			return {
				insertIfNew: notification => this.insertEntityIfNew<Notification>(notification),
				recipient: async userId => {
					try {
						return await this.broker.call<Recipient, { id: string }>("users.get", { id: userId });
					} catch (err) {
						// No such user: nobody to mail. Anything else (users down) throws, and the event comes again.
						if (errorType(err) === "NOT_FOUND") return null;
						throw err;
					}
				},
				recipients: (page, pageSize) => this.broker.call<Recipient[], { page: number; pageSize: number }>("users.recipients", { page, pageSize }),
				sendMail: mail => this.mailer.send(mail),
				now: () => new Date(),
				warn: message => this.logger.warn(message),
			};
		},

		async notifyOwner(event, message, recipient) {
			await notifyUser(this.deliveryPorts(), event, event.data.userId, message, recipient);
		},

		async sendPromotion(event) {
			const report = await broadcast(this.deliveryPorts(), event, promotionMessage(event.data), config.notifications.promotionBatchSize);
			this.logger.info(`Promotion ${event.data.promotionId}: ${report.users} users, ${report.created} new notifications, ${report.mailFailed} mails failed`);
		},
	},

	created() {
		this.mailer = createMailer({ smtpUrl: config.notifications.smtpUrl, from: config.notifications.mailFrom }, this.logger);
	},

	stopped() {
		this.mailer.close();
	},
};

export default NotificationsService;
