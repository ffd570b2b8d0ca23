/**
 * Refunding a payment: in full, once. The refund is claimed first (succeeded ->
 * refunding, one conditional update), so that of two refunds at once only one is made;
 * then the provider is asked with the payment id as its idempotency reference, so asking
 * again after a timeout or a crash refunds once; then the payment becomes refunded
 * together with payment.refunded. A refund the provider did not confirm stays refunding
 * (never back to succeeded: the money may have gone) and is finished by whoever asks
 * again: the next cancel, or the payments sweeper.
 */
import { Errors } from "moleculer";
import { ConflictError, ProviderUnavailableError } from "../errors";
import type { RefundReason } from "../events";
import { errorKind, type Payment, type PaymentPorts } from "./payment";

/** Asks the provider for the claimed refund and records it; throws 502 when the provider did not confirm it. */
export async function finishRefund(ports: PaymentPorts, payment: Payment): Promise<Payment> {
	let refundRef: string;
	try {
		if (!payment.providerRef) throw new Error("the payment has no provider reference");
		({ providerRef: refundRef } = await ports.provider.refund({ providerRef: payment.providerRef, amount: payment.amount, reference: payment._id }));
	} catch (err) {
		ports.warn(`The ${ports.provider.name} provider failed to refund payment ${payment._id}: ${errorKind(err)}; the refund will be asked again`);
		throw new ProviderUnavailableError("The payment provider did not confirm the refund; it is asked again shortly", payment);
	}
	const refunded = await ports.store.transition(
		payment,
		{ status: "refunded", refundedAmount: payment.amount, refundRef, updatedAt: ports.now().toISOString() },
		"payment.refunded",
	);
	// Someone else recorded the same refund meanwhile.
	return refunded ?? (await ports.store.byId(payment._id)) ?? payment;
}

/** An admin's refund: 409 NOT_REFUNDABLE unless the payment succeeded and is not being refunded already. */
export async function refundPayment(ports: PaymentPorts, payment: Payment, reason: RefundReason): Promise<Payment> {
	const claimed = payment.status === "succeeded" ? await claimRefund(ports, payment, reason) : null;
	if (!claimed) {
		const current = (await ports.store.byId(payment._id)) ?? payment;
		throw new ConflictError("Only a succeeded payment can be refunded, and only once", "NOT_REFUNDABLE", { paymentId: payment._id, status: current.status });
	}
	return finishRefund(ports, claimed);
}

function claimRefund(ports: PaymentPorts, payment: Payment, reason: RefundReason): Promise<Payment | null> {
	return ports.store.transition(payment, { status: "refunding", refundReason: reason, updatedAt: ports.now().toISOString() });
}

/**
 * Refunds the payment of an order if it succeeded (for a cancelled order), or finishes a
 * refund under way. Answers the refunded payment (also when it was refunded before), or
 * null when the order has no payment or its payment failed. Throws 503 while the charge's
 * outcome is not known yet, and 502 while the provider does not confirm the refund:
 * the caller asks again later.
 */
export async function refundOrderPayment(ports: PaymentPorts, orderId: string, reason: RefundReason): Promise<Payment | null> {
	let payment = await ports.store.byOrder(orderId);
	if (!payment || payment.status === "failed") return null;
	if (payment.status === "refunded") return payment;
	if (payment.status === "processing") {
		throw new Errors.MoleculerRetryableError("The charge's outcome is not known yet; refund again shortly", 503, "PAYMENT_PENDING", { orderId });
	}
	if (payment.status === "succeeded") {
		payment = (await claimRefund(ports, payment, reason)) ?? (await ports.store.byId(payment._id))!;
		if (payment.status === "refunded") return payment;
	}
	return finishRefund(ports, payment);
}
