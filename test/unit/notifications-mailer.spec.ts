/** Without an SMTP server the mailer logs who a mail was for and its subject, never its text. */
import { createMailer } from "../../src/notifications/mailer";

it("says once that mail is not sent, and logs each mail's recipient and subject, not its text, at debug level", async () => {
	const info: string[] = [];
	const debug: string[] = [];
	const log = { info: (...args: unknown[]) => info.push(args.join(" ")), debug: (...args: unknown[]) => debug.push(args.join(" ")) };
	const mailer = createMailer({ from: "Shop <shop@localhost>" }, log);
	const outcome = await mailer.send({ to: "ann@shop.test", subject: "Your order is on its way", text: "Order 42 has shipped. Secret details." });
	await mailer.send({ to: "bob@shop.test", subject: "Payment received for your order", text: "Secret details again." });
	expect(outcome).toBe("logged");
	expect(info).toEqual(["SMTP_URL is not set: mails are not sent; each is logged at debug level (LOGLEVEL=debug)"]);
	expect(debug).toHaveLength(2);
	expect(debug[0]).toContain("ann@shop.test");
	expect(debug[0]).toContain("Your order is on its way");
	expect(debug[1]).toContain("bob@shop.test");
	expect(debug.join("\n")).not.toContain("Secret details");
	mailer.close();
});
