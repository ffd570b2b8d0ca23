/** The charge and refund flows over an in-memory store and a scripted provider: no broker. */
import { ConflictError, InvalidInputError, PaymentDeclinedError } from "../../src/errors";
import type { CardInput } from "../../src/payments/cards";
import { chargeOrder, type ChargeCommand } from "../../src/payments/charge";
import type { NewPayment, Payment, PaymentEventData, PaymentPorts, PaymentStore } from "../../src/payments/payment";
import type { ChargeRequest, PaymentProvider, RefundRequest } from "../../src/payments/provider";
import { refundOrderPayment, refundPayment } from "../../src/payments/refund";
import { sandboxDecision } from "../../src/payments/sandbox-provider";

const tick = () => new Promise(resolve => setImmediate(resolve));

/** Like the database: a unique orderId, and conditional updates that are atomic. */
function memoryStore(): PaymentStore & { all(): Payment[] } {
	const rows = new Map<string, Payment>();
	let seq = 0;
	return {
		all: () => [...rows.values()],
		async insertIfNew(payment: NewPayment) {
			await tick();
			if ([...rows.values()].some(p => p.orderId === payment.orderId)) return null;
			seq += 1;
			const saved = { ...structuredClone(payment), _id: `p${seq}` };
			rows.set(saved._id, saved);
			return structuredClone(saved);
		},
		async byId(id) {
			await tick();
			const found = rows.get(id);
			return found ? structuredClone(found) : null;
		},
		async byOrder(orderId) {
			await tick();
			const found = [...rows.values()].find(p => p.orderId === orderId);
			return found ? structuredClone(found) : null;
		},
		async transition(id, from, changes) {
			await tick();
			const found = rows.get(id);
			if (!found || found.status !== from) return null;
			Object.assign(found, changes);
			return structuredClone(found);
		},
	};
}

function setup(options: { chargeFails?: boolean; refundFails?: boolean } = {}) {
	const store = memoryStore();
	const charges: ChargeRequest[] = [];
	const refunds: RefundRequest[] = [];
	const events: { type: string; data: PaymentEventData }[] = [];
	const warnings: string[] = [];
	const provider: PaymentProvider = {
		name: "scripted",
		async charge(request) {
			charges.push(request);
			await tick();
			if (options.chargeFails) throw new Error(`gateway timeout for card ${request.card.number}`);
			return sandboxDecision(request.card.number);
		},
		async refund(request) {
			refunds.push(request);
			await tick();
			if (options.refundFails) throw new Error("gateway timeout");
			return { ok: true, providerRef: `re_${refunds.length}` };
		},
	};
	const ports: PaymentPorts = {
		store,
		provider,
		publish: async (type, data) => events.push({ type, data }),
		now: () => new Date("2026-03-15T12:00:00Z"),
		warn: message => warnings.push(message),
	};
	return { store, ports, charges, refunds, events, warnings };
}

const card = (number = "4242424242424242"): CardInput => ({ number, expMonth: 12, expYear: 2030, cvc: "123" });
const command = (overrides: Partial<ChargeCommand> = {}): ChargeCommand => ({ orderId: "o1", userId: "u1", amount: 2500, currency: "USD", card: card(), ...overrides });

describe("charge", () => {
	it("stores a succeeded payment with brand and last four only, then emits payment.succeeded", async () => {
		const { ports, store, events, charges } = setup();
		const paid = await chargeOrder(ports, command());
		expect(paid).toMatchObject({ status: "succeeded", provider: "scripted", providerRef: expect.stringMatching(/^sandbox_ch_/), card: { brand: "visa", last4: "4242", expMonth: 12, expYear: 2030 }, refundedAmount: 0 });
		expect(charges).toEqual([expect.objectContaining({ amount: 2500, currency: "USD", reference: paid._id })]);
		expect(JSON.stringify(store.all())).not.toMatch(/4242424242424242|"cvc"|"number"/);
		expect(events).toEqual([{ type: "payment.succeeded", data: { paymentId: paid._id, orderId: "o1", userId: "u1", amount: 2500, currency: "USD" } }]);
	});

	it("records a decline as failed, emits payment.failed with the reason, and throws 402 of that reason", async () => {
		const { ports, store, events } = setup();
		const declined = chargeOrder(ports, command({ card: card("4000000000009995") }));
		await expect(declined).rejects.toBeInstanceOf(PaymentDeclinedError);
		await expect(chargeOrder(ports, command())).rejects.toMatchObject({ code: 402, type: "insufficient_funds", data: { paymentId: "p1", orderId: "o1" } });
		expect(store.all()).toEqual([expect.objectContaining({ status: "failed", failureReason: "insufficient_funds" })]);
		expect(events).toEqual([{ type: "payment.failed", data: expect.objectContaining({ paymentId: "p1", reason: "insufficient_funds" }) }]);
	});

	it("refuses a bad card with 422 before any provider call or write", async () => {
		const { ports, store, charges } = setup();
		const bad = chargeOrder(ports, command({ card: { number: "4242424242424241", expMonth: 1, expYear: 2026, cvc: "1" } }));
		await expect(bad).rejects.toBeInstanceOf(InvalidInputError);
		await expect(bad).rejects.toMatchObject({ code: 422, data: [{ field: "card.number" }, { field: "card.expMonth" }, { field: "card.cvc" }] });
		expect(charges).toEqual([]);
		expect(store.all()).toEqual([]);
	});

	it("answers a repeated charge with the first payment, and charges the card once", async () => {
		const { ports, charges } = setup();
		const first = await chargeOrder(ports, command());
		const second = await chargeOrder(ports, command());
		expect(second._id).toBe(first._id);
		expect(charges).toHaveLength(1);
	});

	it("lets one of many simultaneous charges of an order reach the provider; the others get 409 PAYMENT_IN_PROGRESS", async () => {
		const { ports, store, charges } = setup();
		const results = await Promise.allSettled([1, 2, 3, 4].map(() => chargeOrder(ports, command())));
		expect(charges).toHaveLength(1);
		expect(results.filter(r => r.status === "fulfilled")).toHaveLength(1);
		for (const r of results) if (r.status === "rejected") expect(r.reason).toMatchObject({ code: 409, type: "PAYMENT_IN_PROGRESS" });
		expect(store.all().filter(p => p.status === "succeeded")).toHaveLength(1);
	});

	it("refuses to answer for an order with a charge of other details", async () => {
		const { ports } = setup();
		await chargeOrder(ports, command());
		await expect(chargeOrder(ports, command({ amount: 1 }))).rejects.toMatchObject({ code: 409, type: "PAYMENT_MISMATCH" });
		await expect(chargeOrder(ports, command({ userId: "u2" }))).rejects.toMatchObject({ code: 409, type: "PAYMENT_MISMATCH" });
	});

	it("keeps the payment processing when the provider fails, answers 502 and never logs the card", async () => {
		const { ports, store, events, warnings } = setup({ chargeFails: true });
		const failing = chargeOrder(ports, command());
		await expect(failing).rejects.toMatchObject({ code: 502, type: "PROVIDER_UNAVAILABLE", data: { paymentId: "p1", orderId: "o1" } });
		await expect(failing).rejects.not.toMatchObject({ message: expect.stringContaining("4242") });
		expect(store.all()).toEqual([expect.objectContaining({ status: "processing" })]);
		expect(events).toEqual([]);
		expect(warnings.join("\n")).toContain("p1");
		expect(warnings.join("\n")).not.toContain("4242424242424242");
		await expect(chargeOrder(ports, command())).rejects.toMatchObject({ code: 409, type: "PAYMENT_IN_PROGRESS" });
	});
});

describe("refund", () => {
	it("refunds a succeeded payment in full, once, and emits payment.refunded", async () => {
		const { ports, refunds, events } = setup();
		const paid = await chargeOrder(ports, command());
		const refunded = await refundPayment(ports, paid);
		expect(refunded).toMatchObject({ status: "refunded", refundedAmount: 2500, refundRef: "re_1" });
		expect(refunds).toEqual([{ providerRef: paid.providerRef, amount: 2500 }]);
		expect(events.map(e => e.type)).toEqual(["payment.succeeded", "payment.refunded"]);
		expect(events[1].data).toMatchObject({ paymentId: paid._id, amount: 2500 });
		await expect(refundPayment(ports, paid)).rejects.toMatchObject({ code: 409, type: "NOT_REFUNDABLE", data: { status: "refunded" } });
	});

	it("refunds once when two refunds arrive at the same time", async () => {
		const { ports, refunds } = setup();
		const paid = await chargeOrder(ports, command());
		const results = await Promise.allSettled([refundPayment(ports, paid), refundPayment(ports, paid)]);
		expect(results.map(r => r.status).sort()).toEqual(["fulfilled", "rejected"]);
		expect(refunds).toHaveLength(1);
	});

	it("refuses a failed payment", async () => {
		const { ports, store } = setup();
		await chargeOrder(ports, command({ card: card("4000000000000002") })).catch(() => undefined);
		await expect(refundPayment(ports, store.all()[0])).rejects.toBeInstanceOf(ConflictError);
	});

	it("leaves the payment refundable when the provider fails", async () => {
		const { ports, store, events } = setup({ refundFails: true });
		const paid = await chargeOrder(ports, command());
		await expect(refundPayment(ports, paid)).rejects.toMatchObject({ code: 502 });
		expect(store.all()[0]).toMatchObject({ status: "succeeded", refundedAmount: 0 });
		expect(events.map(e => e.type)).toEqual(["payment.succeeded"]);
	});

	it("refunds the payment of an order for its cancel: null without one or when it failed", async () => {
		const { ports, refunds } = setup();
		expect(await refundOrderPayment(ports, "none")).toBeNull();
		await chargeOrder(ports, command({ orderId: "declined", card: card("4000000000000002") })).catch(() => undefined);
		expect(await refundOrderPayment(ports, "declined")).toBeNull();
		await chargeOrder(ports, command());
		const [a, b] = await Promise.all([refundOrderPayment(ports, "o1"), refundOrderPayment(ports, "o1")]);
		expect(a).toMatchObject({ status: "refunded", refundedAmount: 2500 });
		expect(b).toMatchObject({ status: "refunded" });
		expect(await refundOrderPayment(ports, "o1")).toMatchObject({ status: "refunded" });
		expect(refunds).toHaveLength(1);
	});
});
