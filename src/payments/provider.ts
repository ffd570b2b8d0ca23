/**
 * The payment provider a payment is charged through. The service talks only to this
 * interface; which provider runs is chosen by config.payments.provider (PAYMENT_PROVIDER).
 */
import { createSandboxProvider } from "./sandbox-provider";

/** Why a provider declined a charge; the 402's `type`. */
export type DeclineReason = "card_declined" | "insufficient_funds" | "expired_card" | "incorrect_cvc" | "processing_error";

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

export type RefundRequest = { providerRef: string; amount: number };

export type RefundResult = { ok: true; providerRef: string };

export interface PaymentProvider {
	/** Stored on each payment, so that a refund goes back to the provider that charged. */
	readonly name: string;
	/** A decline is a result; a thrown error means the outcome is unknown. */
	charge(request: ChargeRequest): Promise<ChargeResult>;
	refund(request: RefundRequest): Promise<RefundResult>;
}

const PROVIDERS: Record<string, () => PaymentProvider> = {
	sandbox: createSandboxProvider,
};

/** The provider of that name; an unknown name is a configuration error the service refuses to start with. */
export function providerNamed(name: string): PaymentProvider {
	const create = Object.hasOwn(PROVIDERS, name) ? PROVIDERS[name] : undefined;
	if (!create) {
		throw new Error(`Unknown payment provider "${name}" (PAYMENT_PROVIDER); known providers: ${Object.keys(PROVIDERS).join(", ")}`);
	}
	return create();
}
