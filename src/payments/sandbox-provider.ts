/**
 * The built-in `sandbox` provider: no money moves. It decides by card number like the
 * well-known test cards; any other valid card succeeds. Like a real provider it is
 * idempotent by reference and answers what became of a charge; it remembers in memory,
 * so a charge whose process died is "unknown" to the next one, as if it never arrived.
 */
import { randomUUID } from "node:crypto";
import { DECLINE_MESSAGES } from "./declines";
import type { ChargeResult, DeclineReason, PaymentProvider, RefundResult } from "./provider";

export const SANDBOX_CARDS = {
	succeeds: "4242424242424242",
	declined: "4000000000000002",
	insufficientFunds: "4000000000009995",
} as const;

const DECLINES: Record<string, DeclineReason> = {
	[SANDBOX_CARDS.declined]: "card_declined",
	[SANDBOX_CARDS.insufficientFunds]: "insufficient_funds",
};

/** What the sandbox answers for a card number (spaces and dashes ignored). */
export function sandboxDecision(cardNumber: string): ChargeResult {
	const reason = DECLINES[cardNumber.replace(/[\s-]/g, "")];
	if (reason) return { ok: false, reason, message: DECLINE_MESSAGES[reason] };
	return { ok: true, providerRef: `sandbox_ch_${randomUUID()}` };
}

export function createSandboxProvider(): PaymentProvider {
	const charges = new Map<string, ChargeResult>();
	const refunds = new Map<string, RefundResult>();
	return {
		name: "sandbox",
		async charge({ card, reference }) {
			const result = charges.get(reference) ?? sandboxDecision(card.number);
			charges.set(reference, result);
			return result;
		},
		async refund({ reference }) {
			const result = refunds.get(reference) ?? { ok: true, providerRef: `sandbox_re_${randomUUID()}` };
			refunds.set(reference, result);
			return result;
		},
		async status(reference) {
			return charges.get(reference) ?? { ok: "unknown" };
		},
	};
}
