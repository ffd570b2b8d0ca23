/**
 * Charging an order: check the card, claim the order with a "processing" payment, ask the
 * provider, record the outcome together with its event. The unique orderId makes the
 * claim the lock: at most one charge per order reaches the provider, however many arrive
 * at once. A charge whose answer is lost stays "processing" until settleProcessing learns
 * its outcome from the provider.
 */

/** The provider's answer, or a timeout after `ms`: a charge that hangs is an outcome not known yet. */
function withDeadline<T>(answer: Promise<T>, ms: number): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const late = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(Object.assign(new Error("the provider did not answer in time"), { name: "ProviderTimeout" })), ms);
	});
	return Promise.race([answer, late]).finally(() => clearTimeout(timer));
}
import { ConflictError, InvalidInputError, ProviderUnavailableError } from "../errors";
import { cardSummary, checkCard, type CardInput } from "./cards";
import type { ChargeResult, ChargeStatus } from "./provider";
import { declinedError, errorKind, type Payment, type PaymentPorts } from "./payment";

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
		result = await withDeadline(
			ports.provider.charge({ amount, currency, card: { number, expMonth, expYear, cvc }, reference: claimed._id }),
			ports.providerTimeoutMs,
		);
	} catch (err) {
		ports.warn(`The ${ports.provider.name} provider failed on payment ${claimed._id} of order ${orderId}: ${errorKind(err)}`);
		// The outcome is unknown (the provider may have charged): the payment stays "processing"
		// so that the order is not charged twice, and settleProcessing asks the provider later.
		// The provider's error is not passed on: it may quote the card.
		throw new ProviderUnavailableError("The payment provider did not answer; whether the card was charged is being checked", claimed);
	}

	const settled = (await recordOutcome(ports, claimed, result)) ?? (await settledMeanwhile(ports, claimed, result));
	if (settled.status === "failed") throw declinedError(settled);
	return settled;
}

/**
 * The payment was settled by a sweeper while its charge was under way (the provider took
 * longer than the sweeper waits). If the sweeper found it failed but the provider charged,
 * the charge goes back at once: nobody else knows it was made.
 */
async function settledMeanwhile(ports: PaymentPorts, claimed: Payment, result: ChargeResult): Promise<Payment> {
	const current = await ports.store.byId(claimed._id);
	if (!current || current.status === "processing") throw new Error(`payment ${claimed._id} could not record its outcome`);
	if (result.ok && current.status === "failed") {
		ports.warn(`Payment ${claimed._id} was settled as failed while the provider charged it; the charge is refunded`);
		await ports.provider.refund({ providerRef: result.providerRef, amount: claimed.amount, reference: claimed._id });
	}
	return current;
}

/** Moves a processing payment to what the provider answered, with its event; null if it was not processing any more. */
function recordOutcome(ports: PaymentPorts, payment: Payment, result: ChargeResult): Promise<Payment | null> {
	const updatedAt = ports.now().toISOString();
	return result.ok
		? ports.store.transition(payment, { status: "succeeded", providerRef: result.providerRef, updatedAt }, "payment.succeeded")
		: ports.store.transition(payment, { status: "failed", failureReason: result.reason, updatedAt }, "payment.failed");
}

/**
 * Settles a payment left "processing" (its charge's answer was lost, or its process died)
 * from what the provider says of its reference. A charge the provider never received
 * failed. Answers the settled payment, or null when it stays processing (the provider did
 * not answer) or was settled by someone else.
 */
export async function settleProcessing(ports: PaymentPorts, payment: Payment): Promise<Payment | null> {
	// A charge the provider does not know yet may still be on its way to it: "unknown" means failed only once it is old.
	const mayStillArrive = ports.now().getTime() - Date.parse(payment.createdAt) < ports.unknownAfterMs;
	let status: ChargeStatus;
	try {
		status = await ports.provider.status(payment._id);
	} catch (err) {
		ports.warn(`The ${ports.provider.name} provider could not tell the outcome of payment ${payment._id}: ${errorKind(err)}`);
		return null;
	}
	if (status.ok === "unknown" && mayStillArrive) return null;
	const result: ChargeResult = status.ok === "unknown" ? { ok: false, reason: "processing_error", message: "The charge never reached the provider" } : status;
	return recordOutcome(ports, payment, result);
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
	if (existing.status === "refunded" || existing.status === "refunding") {
		throw new ConflictError("This order's payment was refunded", "PAYMENT_REFUNDED", { orderId: command.orderId, paymentId: existing._id });
	}
	return existing;
}
