/** Without an SMTP server the mailer logs who a mail was for and its subject, never its text. */
import { createMailer } from "../../src/notifications/mailer";

it("logs the recipient and subject, not the text, when no SMTP URL is set", async () => {
	const lines: string[] = [];
	const mailer = createMailer({ from: "Shop <shop@localhost>" }, { info: (...args: unknown[]) => lines.push(args.join(" ")) });
	const outcome = await mailer.send({ to: "ann@shop.test", subject: "Your order is on its way", text: "Order 42 has shipped. Secret details." });
	expect(outcome).toBe("logged");
	expect(lines).toHaveLength(1);
	expect(lines[0]).toContain("ann@shop.test");
	expect(lines[0]).toContain("Your order is on its way");
	expect(lines[0]).not.toContain("Secret details");
	mailer.close();
});
