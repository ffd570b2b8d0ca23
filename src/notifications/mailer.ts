/**
 * Email delivery. With an SMTP URL (config.notifications.smtpUrl) mail goes out through a
 * pooled nodemailer transport; options may ride on the URL's query, e.g.
 * smtp://relay:2525?ignoreTLS=true or smtps://user:pass@relay:465. Without one, no mail is
 * sent: the first says so at info level, and each is logged at debug level (recipient and
 * subject, never the text), so that a busy shop does not write a line an order.
 */
import nodemailer from "nodemailer";

export type OutgoingMail = { to: string; subject: string; text: string };

/** "sent" through SMTP, or "logged" when no SMTP server is configured. */
export type MailOutcome = "sent" | "logged";

export interface Mailer {
	send(mail: OutgoingMail): Promise<MailOutcome>;
	close(): void;
}

export type MailerOptions = { smtpUrl?: string; from: string };

type Log = { info(...args: unknown[]): void; debug(...args: unknown[]): void };

export function createMailer({ smtpUrl, from }: MailerOptions, log: Log): Mailer {
	if (!smtpUrl) {
		let told = false;
		return {
			async send(mail) {
				if (!told) log.info("SMTP_URL is not set: mails are not sent; each is logged at debug level (LOGLEVEL=debug)");
				told = true;
				log.debug(`Mail not sent: to ${mail.to}, subject "${mail.subject}"`);
				return "logged";
			},
			close() {},
		};
	}

	const transport = nodemailer.createTransport(
		{
			url: smtpUrl,
			pool: true,
			maxConnections: 5,
			// A stuck server must not hold an event handler for long.
			connectionTimeout: 10_000,
			greetingTimeout: 10_000,
			socketTimeout: 30_000,
		},
		{ from },
	);
	return {
		async send(mail) {
			await transport.sendMail({ to: mail.to, subject: mail.subject, text: mail.text });
			return "sent";
		},
		close() {
			transport.close();
		},
	};
}
