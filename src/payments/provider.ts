/**
 * The payment provider a payment is charged through: the contract every provider keeps.
 * Which one runs is chosen in src/payments/providers.ts (PAYMENT_PROVIDER).
 *
 * Every call carries our payment id as its idempotency reference: a charge or a refund
 * asked again after a timeout is made once, and `status` tells what became of a charge
 * whose answer was lost.
 */
import type { DeclineReason } from "../events";

export type { DeclineReason };

export type ChargeRequest = {
	/** Minor units. */
	amount: number;
	currency: string;
	/** Digits only, checked by src/payments/cards.ts. Providers must not log or keep it. */
	card: { number: string; expMonth: number; expYear: number; cvc: string };
	/** Our payment id: the provider's idempotency key for this charge. */
	reference: string;
};

export type ChargeResult = { ok: true; providerRef: string } | { ok: false; reason: DeclineReason; message: string };

export type RefundRequest = {
	providerRef: string;
	amount: number;
	/** Our payment id: the provider's idempotency key for this payment's refund. */
	reference: string;
};

export type RefundResult = { ok: true; providerRef: string };

/** What became of the charge with this reference, as far as the provider knows. */
export type ChargeStatus = ChargeResult | { ok: "unknown" };

export interface PaymentProvider {
	/** Stored on each payment, so that a refund goes back to the provider that charged. */
	readonly name: string;
	/** A decline is a result; a thrown error means the outcome is unknown. */
	charge(request: ChargeRequest): Promise<ChargeResult>;
	/** Throws when the refund's outcome is unknown; asking again with the same reference refunds once. */
	refund(request: RefundRequest): Promise<RefundResult>;
	/** "unknown": the provider never received a charge with this reference. */
	status(reference: string): Promise<ChargeStatus>;
}
