/**
 * The built-in `sandbox` provider: no money moves. It decides by card number like the
 * well-known test cards; any other valid card succeeds. Like a real provider it is
 * idempotent by reference and answers what became of a charge; it remembers in memory,
 * so a charge whose process died is "unknown" to the next one, as if it never arrived.
 * It remembers a reference for as long as the shop may still ask about it (`rememberMs`),
 * not for ever: a provider keeps its idempotency keys for a while too (Stripe: 24 hours),
 * and a sandbox that kept every charge grew the shop's memory by some 200 bytes an order.
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

/** Twice the default PAYMENT_UNKNOWN_AFTER_MS, within which a payment whose charge's answer was lost asks what became of it. */
export const SANDBOX_REMEMBER_MS = 10 * 60 * 1000;

/**
 * Entries kept for `keepMs` at least, in two generations: as a new one starts, the older
 * one goes whole. Memory is bounded by what arrives in two or three `keepMs`, and costs
 * nothing per entry beyond the entry (no timer, no list).
 */
export class RecentMap<V> {
	private current = new Map<string, V>();
	private previous = new Map<string, V>();
	private startedAt: number;

	constructor(
		private readonly keepMs: number,
		private readonly now: () => number = Date.now,
	) {
		this.startedAt = now();
	}

	get(key: string): V | undefined {
		this.turn();
		return this.current.get(key) ?? this.previous.get(key);
	}

	set(key: string, value: V): void {
		this.turn();
		this.current.set(key, value);
	}

	/** Starts a new generation once the current one is `keepMs` old; what is older than two goes too. */
	private turn(): void {
		const age = this.now() - this.startedAt;
		if (age < this.keepMs) return;
		this.previous = age < 2 * this.keepMs ? this.current : new Map();
		this.current = new Map();
		this.startedAt = this.now();
	}
}

export function createSandboxProvider({ rememberMs = SANDBOX_REMEMBER_MS, now = Date.now }: { rememberMs?: number; now?: () => number } = {}): PaymentProvider {
	const charges = new RecentMap<ChargeResult>(rememberMs, now);
	const refunds = new RecentMap<RefundResult>(rememberMs, now);
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
