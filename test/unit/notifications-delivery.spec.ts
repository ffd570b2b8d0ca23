/** Event to notifications over in-memory ports: stored once per user and event, mailed after, mail failures kept apart. */
import { broadcast, notifyUser, type DeliveryPorts, type Recipient } from "../../src/notifications/delivery";
import type { OutgoingMail } from "../../src/notifications/mailer";
import type { Message, NewNotification, Notification } from "../../src/notifications/notification";

const message: Message = { kind: "order_paid", title: "Payment received", body: "Thanks." };
const event = { id: "evt-1", type: "order.paid" };

function memoryPorts(users: Recipient[]) {
	const stored: Notification[] = [];
	const mails: OutgoingMail[] = [];
	const warnings: string[] = [];
	const pages: number[] = [];
	let failMailsTo = new Set<string>();
	let failInsertAfter = Infinity;
	const ports: DeliveryPorts = {
		async insertIfNew(notification: NewNotification) {
			if (stored.length >= failInsertAfter) throw new Error("database went away");
			if (stored.some(n => n.dedupKey === notification.dedupKey)) return null;
			const saved = { ...notification, _id: `n${stored.length + 1}` };
			stored.push(saved);
			return saved;
		},
		async recipient(userId) {
			return users.find(u => u.id === userId) ?? null;
		},
		async recipients(page, pageSize) {
			pages.push(page);
			return users.slice((page - 1) * pageSize, page * pageSize);
		},
		async sendMail(mail) {
			if (failMailsTo.has(mail.to)) throw Object.assign(new Error("Connection refused"), { code: "ECONNECTION" });
			mails.push(mail);
			return "sent";
		},
		now: () => new Date("2026-03-15T12:00:00Z"),
		warn: text => warnings.push(text),
	};
	return {
		ports,
		stored,
		mails,
		warnings,
		pages,
		failMailsTo: (emails: string[]) => (failMailsTo = new Set(emails)),
		failInsertAfter: (n: number) => (failInsertAfter = n),
	};
}

const users: Recipient[] = Array.from({ length: 7 }, (_, i) => ({ id: `u${i + 1}`, email: `user${i + 1}@shop.test`, name: `User ${i + 1}` }));

it("stores one unread notification and mails its owner", async () => {
	const memory = memoryPorts(users);
	expect(await notifyUser(memory.ports, event, "u2", message)).toBe("sent");
	expect(memory.stored).toEqual([
		{
			_id: "n1",
			userId: "u2",
			kind: "order_paid",
			title: "Payment received",
			body: "Thanks.",
			read: false,
			eventId: "evt-1",
			dedupKey: "evt-1:u2",
			createdAt: "2026-03-15T12:00:00.000Z",
		},
	]);
	expect(memory.mails).toEqual([{ to: "user2@shop.test", subject: "Payment received", text: expect.stringContaining("Thanks.") }]);
});

it("does nothing the second time the same event comes", async () => {
	const memory = memoryPorts(users);
	await notifyUser(memory.ports, event, "u2", message);
	expect(await notifyUser(memory.ports, event, "u2", message)).toBe("duplicate");
	expect(memory.stored).toHaveLength(1);
	expect(memory.mails).toHaveLength(1);
});

it("keeps the notification when the mail fails, and says so without the text", async () => {
	const memory = memoryPorts(users);
	memory.failMailsTo(["user2@shop.test"]);
	expect(await notifyUser(memory.ports, event, "u2", message)).toBe("mail_failed");
	expect(memory.stored).toHaveLength(1);
	expect(memory.warnings).toHaveLength(1);
	expect(memory.warnings[0]).toContain("ECONNECTION");
	expect(memory.warnings[0]).not.toContain("Thanks.");
});

it("stores the notification of a user who no longer exists, and mails nobody", async () => {
	const memory = memoryPorts(users);
	expect(await notifyUser(memory.ports, event, "gone", message)).toBe("stored");
	expect(memory.mails).toEqual([]);
});

it("stores nothing when the user cannot be looked up, so that the redelivery does it all", async () => {
	const memory = memoryPorts(users);
	memory.ports.recipient = async () => {
		throw new Error("users unavailable");
	};
	await expect(notifyUser(memory.ports, event, "u2", message)).rejects.toThrow("users unavailable");
	expect(memory.stored).toEqual([]);
});

describe("broadcast", () => {
	const promo: Message = { kind: "promotion", title: "Sale", body: "20% off" };
	const promoEvent = { id: "evt-promo", type: "promotion.created" };

	it("notifies and mails every user, a batch at a time", async () => {
		const memory = memoryPorts(users);
		expect(await broadcast(memory.ports, promoEvent, promo, 3)).toEqual({ users: 7, created: 7, mailFailed: 0 });
		expect(memory.pages).toEqual([1, 2, 3]);
		expect(memory.stored.map(n => n.userId).sort()).toEqual(users.map(u => u.id).sort());
		expect(memory.mails.map(m => m.to).sort()).toEqual(users.map(u => u.email).sort());
	});

	it("asks for one more page when the last batch was full", async () => {
		const memory = memoryPorts(users.slice(0, 6));
		await broadcast(memory.ports, promoEvent, promo, 3);
		expect(memory.pages).toEqual([1, 2, 3]);
	});

	it("carries on after a failure mid-way without doubling anyone", async () => {
		const memory = memoryPorts(users);
		memory.failInsertAfter(4);
		await expect(broadcast(memory.ports, promoEvent, promo, 3)).rejects.toThrow("database went away");
		expect(memory.stored).toHaveLength(4);

		memory.failInsertAfter(Infinity);
		expect(await broadcast(memory.ports, promoEvent, promo, 3)).toEqual({ users: 7, created: 3, mailFailed: 0 });
		expect(memory.stored).toHaveLength(7);
		expect(new Set(memory.stored.map(n => n.dedupKey)).size).toBe(7);
		expect(memory.mails).toHaveLength(7);
	});

	it("counts the mails that failed and still stores every notification", async () => {
		const memory = memoryPorts(users);
		memory.failMailsTo(["user1@shop.test", "user5@shop.test"]);
		expect(await broadcast(memory.ports, promoEvent, promo, 4)).toEqual({ users: 7, created: 7, mailFailed: 2 });
		expect(memory.stored).toHaveLength(7);
	});
});
