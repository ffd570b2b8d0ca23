/**
 * Refunding a payment: in full, once. One atomic conditional update moves the payment
 * from "succeeded" to "refunded" before the provider is asked, so that of two refunds at
 * once only one reaches the provider, and never more than the charge is refunded.
 */
import { ConflictError } from "../errors";
import { errorKind, paymentEventData, ProviderUnavailableError, type Payment, type PaymentPorts, type RefundReason } from "./payment";

/** Answers the refunded payment, or throws 409 NOT_REFUNDABLE (not succeeded, or refunded already) or 502. */
export async function refundPayment(ports: PaymentPorts, payment: Payment, reason: RefundReason = "refund_requested"): Promise<Payment> {
	const refunded = await ports.store.transition(payment._id, "succeeded", {
		status: "refunded",
		refundedAmount: payment.amount,
		updatedAt: ports.now().toISOString(),
	});
	if (!refunded) {
		const current = await ports.store.byId(payment._id);
		throw new ConflictError("Only a succeeded payment can be refunded, and only once", "NOT_REFUNDABLE", {
			paymentId: payment._id,
			status: current?.status ?? payment.status,
		});
	}

	let refundRef: string;
	try {
		if (!refunded.providerRef) throw new Error("the payment has no provider reference");
		({ providerRef: refundRef } = await ports.provider.refund({ providerRef: refunded.providerRef, amount: refunded.refundedAmount }));
	} catch (err) {
		ports.warn(`The ${ports.provider.name} provider failed to refund payment ${payment._id}: ${errorKind(err)}`);
		// Nothing was refunded as far as we know: the payment is refundable again.
		await ports.store.transition(payment._id, "refunded", { status: "succeeded", refundedAmount: 0, updatedAt: ports.now().toISOString() });
		throw new ProviderUnavailableError("The payment provider did not refund the payment; try again", payment);
	}

	const saved = (await ports.store.transition(payment._id, "refunded", { refundRef })) ?? refunded;
	await ports.publish("payment.refunded", paymentEventData(saved, "payment.refunded", reason));
	return saved;
}

/**
 * Refunds the payment of an order if it succeeded (for a cancelled order). Answers the
 * refunded payment (also when it was refunded before), or null when the order has no
 * payment or its payment never succeeded.
 */
export async function refundOrderPayment(ports: PaymentPorts, orderId: string): Promise<Payment | null> {
	const payment = await ports.store.byOrder(orderId);
	if (!payment || (payment.status !== "succeeded" && payment.status !== "refunded")) return null;
	if (payment.status === "refunded") return payment;
	try {
		return await refundPayment(ports, payment, "order_cancelled");
	} catch (err) {
		// Another refund of the same payment won the race.
		if (err instanceof ConflictError && err.type === "NOT_REFUNDABLE") {
			const current = await ports.store.byId(payment._id);
			return current?.status === "refunded" ? current : null;
		}
		throw err;
	}
}
