/**
 * The built-in `sandbox` provider: no money moves. It decides by card number like the
 * well-known test cards; any other valid card succeeds.
 */
import { randomUUID } from "node:crypto";
import type { ChargeResult, DeclineReason, PaymentProvider } from "./provider";

export const SANDBOX_CARDS = {
	succeeds: "4242424242424242",
	declined: "4000000000000002",
	insufficientFunds: "4000000000009995",
} as const;

const DECLINES: Record<string, { reason: DeclineReason; message: string }> = {
	[SANDBOX_CARDS.declined]: { reason: "card_declined", message: "The card was declined" },
	[SANDBOX_CARDS.insufficientFunds]: { reason: "insufficient_funds", message: "The card has insufficient funds" },
};

/** What the sandbox answers for a card number (spaces and dashes ignored). */
export function sandboxDecision(cardNumber: string): ChargeResult {
	const decline = DECLINES[cardNumber.replace(/[\s-]/g, "")];
	if (decline) return { ok: false, ...decline };
	return { ok: true, providerRef: `sandbox_ch_${randomUUID()}` };
}

export function createSandboxProvider(): PaymentProvider {
	return {
		name: "sandbox",
		async charge({ card }) {
			return sandboxDecision(card.number);
		},
		async refund() {
			return { ok: true, providerRef: `sandbox_re_${randomUUID()}` };
		},
	};
}
