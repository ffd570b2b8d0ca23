/** The charge and refund flows over an in-memory store and a scripted provider: no broker. */
import { ConflictError, InvalidInputError, PaymentDeclinedError } from "../../src/errors";
import type { CardInput } from "../../src/payments/cards";
import { chargeOrder, settleProcessing, type ChargeCommand } from "../../src/payments/charge";
import type { PaymentEventData } from "../../src/events";
import { paymentEvent, type NewPayment, type Payment, type PaymentEventType, type PaymentPorts, type PaymentStore } from "../../src/payments/payment";
import type { ChargeRequest, ChargeResult, PaymentProvider, RefundRequest } from "../../src/payments/provider";
import { finishRefund, refundOrderPayment, refundPayment } from "../../src/payments/refund";
import { SANDBOX_CARDS, sandboxDecision } from "../../src/payments/sandbox-provider";
import { testCard } from "../helpers/fixtures";

const tick = () => new Promise(resolve => setImmediate(resolve));

/** Like the database: a unique orderId, and conditional updates that are atomic and record their event (the outbox). */
function memoryStore(events: { type: string; data: PaymentEventData }[]): PaymentStore & { all(): Payment[] } {
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
		async transition(payment, changes, event?: PaymentEventType) {
			await tick();
			const found = rows.get(payment._id);
			if (!found || found.status !== payment.status) return null;
			Object.assign(found, changes);
			if (event) events.push({ type: event, data: paymentEvent(found, event as "payment.succeeded") });
			return structuredClone(found);
		},
	};
}

function setup(options: { chargeFails?: boolean; refundFails?: boolean } = {}) {
	const events: { type: string; data: PaymentEventData }[] = [];
	const store = memoryStore(events);
	const charges: ChargeRequest[] = [];
	const outcomes = new Map<string, ChargeResult>();
	/** Refunds made, one per reference, as a provider keeps them. */
	const refunds: RefundRequest[] = [];
	const warnings: string[] = [];
	const provider: PaymentProvider = {
		name: "scripted",
		async charge(request) {
			charges.push(request);
			await tick();
			const outcome = outcomes.get(request.reference) ?? sandboxDecision(request.card.number, request.reference);
			outcomes.set(request.reference, outcome);
			if (options.chargeFails) throw new Error(`gateway timeout for card ${request.card.number}`);
			return outcome;
		},
		async refund(request) {
			await tick();
			if (options.refundFails) throw new Error("gateway timeout");
			const index = refunds.findIndex(r => r.reference === request.reference);
			if (index < 0) refunds.push(request);
			return { ok: true, providerRef: `re_${index < 0 ? refunds.length : index + 1}` };
		},
		async status(reference) {
			return outcomes.get(reference) ?? { ok: "unknown" };
		},
	};
	const ports: PaymentPorts = {
		store,
		provider,
		providerTimeoutMs: 1000,
		unknownAfterMs: 60_000,
		now: () => new Date("2026-03-15T12:00:00Z"),
		warn: message => warnings.push(message),
	};
	return { store, ports, charges, refunds, events, warnings };
}

const card = (number: string = SANDBOX_CARDS.succeeds): CardInput => ({ ...testCard(number), expYear: 2030 });
const command = (overrides: Partial<ChargeCommand> = {}): ChargeCommand => ({
	orderId: "o1",
	userId: "u1",
	amount: 2500,
	currency: "USD",
	card: card(),
	...overrides,
});

describe("charge", () => {
	it("stores a succeeded payment with brand and last four only, then emits payment.succeeded", async () => {
		const { ports, store, events, charges } = setup();
		const paid = await chargeOrder(ports, command());
		expect(paid).toMatchObject({
			status: "succeeded",
			provider: "scripted",
			providerRef: expect.stringMatching(/^sandbox_ch_/),
			card: { brand: "visa", last4: "4242", expMonth: 12, expYear: 2030 },
			refundedAmount: 0,
		});
		expect(charges).toEqual([expect.objectContaining({ amount: 2500, currency: "USD", reference: paid._id })]);
		expect(JSON.stringify(store.all())).not.toMatch(/4242424242424242|"cvc"|"number"/);
		expect(events).toEqual([{ type: "payment.succeeded", data: { paymentId: paid._id, orderId: "o1", userId: "u1", amount: 2500, currency: "USD" } }]);
	});

	it("records a decline as failed, emits payment.failed with the reason, and throws 402 of that reason", async () => {
		const { ports, store, events } = setup();
		const declined = chargeOrder(ports, command({ card: card(SANDBOX_CARDS.insufficientFunds) }));
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
		const refunded = await refundPayment(ports, paid, "refund_requested");
		expect(refunded).toMatchObject({ status: "refunded", refundedAmount: 2500, refundRef: "re_1" });
		expect(refunds).toEqual([{ providerRef: paid.providerRef, amount: 2500, reference: paid._id }]);
		expect(events.map(e => e.type)).toEqual(["payment.succeeded", "payment.refunded"]);
		expect(events[1].data).toMatchObject({ paymentId: paid._id, amount: 2500, reason: "refund_requested" });
		await expect(refundPayment(ports, paid, "refund_requested")).rejects.toMatchObject({ code: 409, type: "NOT_REFUNDABLE", data: { status: "refunded" } });
	});

	it("refunds once when two refunds arrive at the same time", async () => {
		const { ports, refunds } = setup();
		const paid = await chargeOrder(ports, command());
		const results = await Promise.allSettled([refundPayment(ports, paid, "refund_requested"), refundPayment(ports, paid, "refund_requested")]);
		expect(results.map(r => r.status).sort()).toEqual(["fulfilled", "rejected"]);
		expect(refunds).toHaveLength(1);
	});

	it("refuses a failed payment", async () => {
		const { ports, store } = setup();
		await chargeOrder(ports, command({ card: card(SANDBOX_CARDS.declined) })).catch(() => undefined);
		await expect(refundPayment(ports, store.all()[0], "refund_requested")).rejects.toBeInstanceOf(ConflictError);
	});

	it("keeps a refund the provider did not confirm claimed (never refundable twice), and finishes it once when asked again", async () => {
		const failing = setup({ refundFails: true });
		const paid = await chargeOrder(failing.ports, command());
		await expect(refundPayment(failing.ports, paid, "refund_requested")).rejects.toMatchObject({ code: 502 });
		expect(failing.store.all()[0]).toMatchObject({ status: "refunding", refundedAmount: 0 });
		await expect(refundPayment(failing.ports, paid, "refund_requested")).rejects.toMatchObject({ code: 409, type: "NOT_REFUNDABLE" });
		expect(failing.events.map(e => e.type)).toEqual(["payment.succeeded"]);

		// The provider is back: the sweeper (or the next cancel) finishes it, with the same reference.
		const healed: PaymentPorts = { ...failing.ports, provider: setup().ports.provider };
		const claimed = failing.store.all()[0];
		const [a, b] = await Promise.all([finishRefund(healed, claimed), refundOrderPayment(healed, "o1", "order_cancelled")]);
		expect(a).toMatchObject({ status: "refunded", refundedAmount: 2500 });
		expect(b).toMatchObject({ status: "refunded" });
		expect(failing.events.map(e => e.type)).toEqual(["payment.succeeded", "payment.refunded"]);
		expect(failing.events[1].data).toMatchObject({ reason: "refund_requested" });
	});

	it("settles a charge whose answer was lost from what the provider says of it", async () => {
		const lost = setup({ chargeFails: true });
		await chargeOrder(lost.ports, command()).catch(() => undefined);
		await chargeOrder(lost.ports, command({ orderId: "o2", card: card(SANDBOX_CARDS.declined) })).catch(() => undefined);
		const [charged, declined] = lost.store.all();
		expect([charged.status, declined.status]).toEqual(["processing", "processing"]);
		expect(await settleProcessing(lost.ports, charged)).toMatchObject({ status: "succeeded", providerRef: expect.any(String) });
		expect(await settleProcessing(lost.ports, declined)).toMatchObject({ status: "failed", failureReason: "card_declined" });
		expect(lost.events.map(e => e.type)).toEqual(["payment.succeeded", "payment.failed"]);

		// A charge the provider never received: still on its way while young, failed once old; asking twice settles once.
		const never = setup();
		const claimed = (await never.store.insertIfNew({ ...lost.store.all()[0], orderId: "o3", status: "processing" }))!;
		expect(await settleProcessing(never.ports, claimed)).toBeNull();
		const later: PaymentPorts = { ...never.ports, now: () => new Date(Date.parse(claimed.createdAt) + 120_000) };
		expect(await settleProcessing(later, claimed)).toMatchObject({ status: "failed", failureReason: "processing_error" });
		expect(await settleProcessing(later, claimed)).toBeNull();
	});

	it("gives a charge back at once when a sweeper settled its payment as failed while the provider was still charging", async () => {
		const { ports, store, refunds } = setup();
		const slow: PaymentPorts = {
			...ports,
			provider: {
				...ports.provider,
				async charge(request) {
					const answer = await ports.provider.charge(request);
					// Meanwhile a sweeper gave up on the payment.
					const payment = (await store.byId(request.reference))!;
					await store.transition(payment, { status: "failed", failureReason: "processing_error" }, "payment.failed");
					return answer;
				},
			},
		};
		await expect(chargeOrder(slow, command())).rejects.toMatchObject({ code: 402, type: "processing_error" });
		expect(refunds).toEqual([expect.objectContaining({ reference: store.all()[0]._id, amount: 2500 })]);
	});

	it("refunds the payment of an order for its cancel: null without one or when it failed", async () => {
		const { ports, refunds } = setup();
		expect(await refundOrderPayment(ports, "none", "order_cancelled")).toBeNull();
		await chargeOrder(ports, command({ orderId: "declined", card: card(SANDBOX_CARDS.declined) })).catch(() => undefined);
		expect(await refundOrderPayment(ports, "declined", "order_cancelled")).toBeNull();
		await chargeOrder(ports, command());
		const [a, b] = await Promise.all([refundOrderPayment(ports, "o1", "order_cancelled"), refundOrderPayment(ports, "o1", "order_cancelled")]);
		expect(a).toMatchObject({ status: "refunded", refundedAmount: 2500 });
		expect(b).toMatchObject({ status: "refunded" });
		expect(await refundOrderPayment(ports, "o1", "order_cancelled")).toMatchObject({ status: "refunded" });
		expect(refunds).toHaveLength(1);
	});
});
