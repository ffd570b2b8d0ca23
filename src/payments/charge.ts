/**
 * Charging an order: check the card, claim the order with a "processing" payment, ask the
 * provider, record the outcome, then tell the world. The unique orderId makes the claim
 * the lock: at most one charge per order reaches the provider, however many arrive at once.
 */
import { ConflictError, InvalidInputError } from "../errors";
import { cardSummary, checkCard, type CardInput } from "./cards";
import type { ChargeResult } from "./provider";
import { declinedError, errorKind, paymentEventData, ProviderUnavailableError, type Payment, type PaymentPorts } from "./payment";

export type ChargeCommand = { orderId: string; userId: string; amount: number; currency: string; card: CardInput };

/** Answers the succeeded payment, or throws 422 (bad card), 402 (declined), 409 (in progress, or another charge of the order) or 502 (provider unavailable). */
export async function chargeOrder(ports: PaymentPorts, command: ChargeCommand): Promise<Payment> {
	const { orderId, userId, amount, currency } = command;
	const checked = checkCard(command.card, ports.now());
	if (!checked.ok) throw new InvalidInputError("The card details are not valid", checked.problems);

	const at = ports.now().toISOString();
	const claimed = await ports.store.insertIfNew({
		orderId,
		userId,
		amount,
		currency,
		status: "processing",
		provider: ports.provider.name,
		card: cardSummary(checked.card),
		refundedAmount: 0,
		createdAt: at,
		updatedAt: at,
	});
	if (!claimed) return earlierCharge(await ports.store.byOrder(orderId), command);

	const { number, expMonth, expYear, cvc } = checked.card;
	let result: ChargeResult;
	try {
		result = await ports.provider.charge({ amount, currency, card: { number, expMonth, expYear, cvc }, reference: claimed._id });
	} catch (err) {
		ports.warn(`The ${ports.provider.name} provider failed on payment ${claimed._id} of order ${orderId}: ${errorKind(err)}`);
		// The outcome is unknown (the provider may have charged): the payment stays "processing"
		// so that the order is not charged twice; reconcile it with the provider by its id, the
		// charge's reference. The provider's error is not passed on: it may quote the card.
		throw new ProviderUnavailableError("The payment provider did not answer; whether the card was charged is being checked", claimed);
	}

	const settledAt = ports.now().toISOString();
	if (result.ok) {
		const paid = await settle(ports, claimed, { status: "succeeded", providerRef: result.providerRef, updatedAt: settledAt });
		await ports.publish("payment.succeeded", paymentEventData(paid, "payment.succeeded"));
		return paid;
	}
	const failed = await settle(ports, claimed, { status: "failed", failureReason: result.reason, updatedAt: settledAt });
	await ports.publish("payment.failed", paymentEventData(failed, "payment.failed"));
	throw declinedError(failed);
}

/** A second charge of an order answers with the outcome of the first. */
function earlierCharge(existing: Payment | null, command: ChargeCommand): Payment {
	if (!existing || existing.status === "processing") {
		throw new ConflictError("This order is being charged already", "PAYMENT_IN_PROGRESS", { orderId: command.orderId });
	}
	const sameCharge = existing.userId === command.userId && existing.amount === command.amount && existing.currency === command.currency;
	if (!sameCharge) {
		throw new ConflictError("This order was charged with other details", "PAYMENT_MISMATCH", { orderId: command.orderId, paymentId: existing._id });
	}
	if (existing.status === "failed") throw declinedError(existing);
	if (existing.status === "refunded") {
		throw new ConflictError("This order's payment was refunded", "PAYMENT_REFUNDED", { orderId: command.orderId, paymentId: existing._id });
	}
	return existing;
}

async function settle(ports: PaymentPorts, claimed: Payment, changes: Partial<Payment>): Promise<Payment> {
	const saved = await ports.store.transition(claimed._id, "processing", changes);
	// Only the charge that claimed the payment moves it out of "processing".
	if (!saved) throw new Error(`payment ${claimed._id} left "processing" while it was being charged`);
	return saved;
}
