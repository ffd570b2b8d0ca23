/**
 * A notification as stored and as shown. One per user and business event: `dedupKey`
 * (`<eventId>:<userId>`) has a unique index, so a second delivery of an event stores nothing.
 */

export const NOTIFICATION_KINDS = [
	"welcome",
	"order_paid",
	"payment_failed",
	"order_cancelled",
	"order_shipped",
	"order_delivered",
	"refund",
	"promotion",
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export type Notification = {
	_id: string;
	userId: string;
	kind: NotificationKind;
	title: string;
	body: string;
	read: boolean;
	/** The business event this notification tells of. */
	eventId: string;
	/** `<eventId>:<userId>`; unique: the idempotency of event handling, stored with its effect. */
	dedupKey: string;
	createdAt: string;
};

export type NewNotification = Omit<Notification, "_id">;

/** What the owner sees. */
export type NotificationView = { id: string; kind: NotificationKind; title: string; body: string; read: boolean; createdAt: string };

/** Text of a notification, as the templates write it. */
export type Message = { kind: NotificationKind; title: string; body: string };

export function dedupKey(eventId: string, userId: string): string {
	return `${eventId}:${userId}`;
}

export function newNotification(eventId: string, userId: string, message: Message, now: Date): NewNotification {
	return {
		userId,
		kind: message.kind,
		title: message.title,
		body: message.body,
		read: false,
		eventId,
		dedupKey: dedupKey(eventId, userId),
		createdAt: now.toISOString(),
	};
}

export function notificationView(notification: Notification): NotificationView {
	const { _id, kind, title, body, read, createdAt } = notification;
	return { id: _id, kind, title, body, read, createdAt };
}
