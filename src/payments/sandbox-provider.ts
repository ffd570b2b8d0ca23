/**
 * The built-in `sandbox` provider: no money moves. It decides by card number like the
 * well-known test cards; any other valid card succeeds. Like a real provider it is
 * idempotent by reference and answers what became of a charge; it remembers in memory,
 * so a charge whose process died is "unknown" to the next one, as if it never arrived.
 * It remembers a reference for as long as the shop may still ask about it (`rememberMs`),
 * not for ever: a provider keeps its idempotency keys for a while too (Stripe: 24 hours),
 * and a sandbox that kept every charge grew the shop's memory by some 200 bytes an order.
 * What it keeps of a charge is the reference and how it ended: its own reference for the
 * charge (and for a refund) is made of the shop's, so the same reference gets the same
 * answer, and a refund needs no memory at all.
 */
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

/** How a charge ends: by the card number (spaces and dashes ignored), declined for a reason or not. */
const outcomeOf = (cardNumber: string): DeclineReason | "succeeded" => DECLINES[cardNumber.replace(/[\s-]/g, "")] ?? "succeeded";

/** What the sandbox answers for the charge `reference` that ended as `outcome`. */
function chargeResult(reference: string, outcome: DeclineReason | "succeeded"): ChargeResult {
	if (outcome === "succeeded") return { ok: true, providerRef: `sandbox_ch_${reference}` };
	return { ok: false, reason: outcome, message: DECLINE_MESSAGES[outcome] };
}

/** What the sandbox answers for a charge of a card number under `reference`. */
export const sandboxDecision = (cardNumber: string, reference: string): ChargeResult => chargeResult(reference, outcomeOf(cardNumber));

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
	const charges = new RecentMap<DeclineReason | "succeeded">(rememberMs, now);
	return {
		name: "sandbox",
		async charge({ card, reference }) {
			const outcome = charges.get(reference) ?? outcomeOf(card.number);
			charges.set(reference, outcome);
			return chargeResult(reference, outcome);
		},
		async refund({ reference }): Promise<RefundResult> {
			return { ok: true, providerRef: `sandbox_re_${reference}` };
		},
		async status(reference) {
			const outcome = charges.get(reference);
			return outcome ? chargeResult(reference, outcome) : { ok: "unknown" };
		},
	};
}
