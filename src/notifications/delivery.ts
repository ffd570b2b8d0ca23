/**
 * How an event becomes notifications: one per user, stored first (idempotent by
 * `<eventId>:<userId>`), then emailed. A second delivery of an event finds the notification
 * stored and sends nothing; a mail that fails is logged and the notification stays.
 * The service implements the ports over the db mixin, the users service and the mailer.
 */
import type { MailOutcome, OutgoingMail } from "./mailer";
import { newNotification, type Message, type NewNotification, type Notification } from "./notification";
import { mailText } from "./templates";

export type Recipient = { id: string; email: string; name: string };

export type DeliveryPorts = {
	/** Stores the notification, or answers null when its dedupKey is stored already. */
	insertIfNew(notification: NewNotification): Promise<Notification | null>;
	/** The user to write to, or null when there is no such user. Throws when it cannot tell (users down): the event comes again. */
	recipient(userId: string): Promise<Recipient | null>;
	/** One page of every user (1-based), [] past the last. */
	recipients(page: number, pageSize: number): Promise<Recipient[]>;
	sendMail(mail: OutgoingMail): Promise<MailOutcome>;
	now(): Date;
	/** For a mail that failed; given the notification id and the error, never the mail's text. */
	warn(message: string): void;
};

/** What happened for one user: "duplicate" when an earlier delivery of the event did it all. */
export type DeliveryOutcome = "duplicate" | "stored" | MailOutcome | "mail_failed";

export type BusinessEventRef = { id: string; type: string };

/**
 * Notifies one user of one event. The recipient is looked up before anything is stored, so
 * that a lookup failure leaves nothing behind and the redelivery does the whole job.
 */
export async function notifyUser(
	ports: DeliveryPorts,
	event: BusinessEventRef,
	userId: string,
	message: Message,
	knownRecipient?: Recipient,
): Promise<DeliveryOutcome> {
	const recipient = knownRecipient ?? (await ports.recipient(userId));
	const stored = await ports.insertIfNew(newNotification(event.id, userId, message, ports.now()));
	if (!stored) return "duplicate";
	if (!recipient) return "stored";
	try {
		return await ports.sendMail({ to: recipient.email, ...mailText(message, recipient.name) });
	} catch (err) {
		const e = err as { code?: unknown; message?: unknown } | null;
		ports.warn(`Mail for notification ${stored._id} (${event.type} ${event.id}) failed: ${String(e?.code ?? "")} ${String(e?.message ?? err)}`.trim());
		return "mail_failed";
	}
}

export type BroadcastReport = { users: number; created: number; mailFailed: number };

/**
 * Notifies every user, one page of `batchSize` users at a time. Each user's notification
 * is idempotent, so a redelivery after a failure mid-way skips the users done and carries on.
 */
export async function broadcast(ports: DeliveryPorts, event: BusinessEventRef, message: Message, batchSize: number): Promise<BroadcastReport> {
	const report: BroadcastReport = { users: 0, created: 0, mailFailed: 0 };
	const pageSize = Math.max(1, batchSize);
	for (let page = 1; ; page += 1) {
		const batch = await ports.recipients(page, pageSize);
		const outcomes = await Promise.all(batch.map(user => notifyUser(ports, event, user.id, message, user)));
		report.users += batch.length;
		report.created += outcomes.filter(outcome => outcome !== "duplicate").length;
		report.mailFailed += outcomes.filter(outcome => outcome === "mail_failed").length;
		if (batch.length < pageSize) return report;
	}
}
