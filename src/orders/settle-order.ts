/**
 * Finishing what an order owes, by whoever gets there: the request that claimed the work,
 * or a sweeper on any instance once that request has died or given up. Every step is
 * idempotent (a refund is made once per payment, a release gives back only what the order
 * holds, a move is one conditional update), so running a flow twice, or again after it
 * failed half-way, finishes the job and does nothing twice.
 *
 * - finishCancel: a `cancelling` order is refunded, restocked, then `cancelled`.
 * - releaseOwedStock: a failed or abandoned order gives its stock back once more, after
 *   any reservation of its saga can still apply, and then owes nothing.
 * - settleAbandoned: a `pending` order whose saga died is settled from its payment.
 */
import type { CancelReason, DeclineReason } from "../events";
import type { Order } from "./order";
import type { SettlePorts } from "./ports";

/** The moment after which an order failed now owes no more stock (its last release). */
export function releaseDeadline(ports: Pick<SettlePorts, "now" | "releaseGraceMs">): string {
	return new Date(ports.now().getTime() + ports.releaseGraceMs).toISOString();
}

async function releaseAll(ports: SettlePorts, order: Order): Promise<void> {
	for (const line of order.items) await ports.release(order._id, line.productId, line.quantity);
}

/**
 * Refunds and restocks a `cancelling` order, then moves it to `cancelled` with
 * order.cancelled. Throws when a step fails: the order stays `cancelling`, for the next try.
 */
export async function finishCancel(ports: SettlePorts, order: Order): Promise<Order> {
	await ports.refundOrder(order._id, order.reason === "refunded" ? "refund_requested" : "order_cancelled");
	await releaseAll(ports, order);
	const cancelled = await ports.transition(order, "cancelled", { releaseOwedAfter: undefined }, "order.cancelled");
	return cancelled ?? (await ports.findById(order._id)) ?? order;
}

/**
 * Gives back the stock of a failed or abandoned order, and clears what it owes once the
 * release came after its deadline. Before the deadline it releases and keeps owing: a
 * reservation that timed out in the saga may still apply, and the pass after the deadline
 * gives that back too.
 */
export async function releaseOwedStock(ports: SettlePorts, order: Order): Promise<void> {
	if (!order.releaseOwedAfter) return;
	const finalPass = ports.now().toISOString() >= order.releaseOwedAfter;
	await releaseAll(ports, order);
	if (finalPass) await ports.clearReleaseOwed(order);
}

/** Ends a pending order that its saga can no longer finish: cancelled (or payment_failed), its stock owed back. */
/** How an order ends when it fails: cancelled for a cancel reason, payment_failed for a decline reason, never crossed. */
export type Failure = { to: "cancelled"; reason: CancelReason } | { to: "payment_failed"; reason: DeclineReason };

async function fail(ports: SettlePorts, order: Order, { to, reason }: Failure): Promise<Order | null> {
	const failed = await ports.transition(
		order,
		to,
		{ reason, releaseOwedAfter: releaseDeadline(ports) },
		to === "cancelled" ? "order.cancelled" : "order.payment_failed",
	);
	if (failed) {
		// Given back now if it can be; the sweeper's pass after the deadline makes sure.
		await releaseAll(ports, failed).catch(err => ports.warn(`Releasing the stock of order ${order._id} failed; it will be tried again: ${String(err)}`));
	}
	return failed;
}

/**
 * Settles a pending order whose saga died, from its payment: paid if the charge went
 * through, payment_failed if it was declined, cancelled (abandoned) if there was none.
 * A charge whose outcome is not known yet decides later. Answers the order as settled, or
 * null when it stays pending or someone else settled it.
 */
export async function settleAbandoned(ports: SettlePorts, order: Order): Promise<Order | null> {
	const payment = await ports.paymentOf(order._id);
	if (payment?.status === "processing") return null;
	if (payment?.status === "succeeded") return ports.transition(order, "paid", { paymentId: payment.id }, "order.paid");
	if (payment?.status === "failed") return fail(ports, order, { to: "payment_failed", reason: payment.failureReason ?? "card_declined" });
	// No payment, or one refunded already: nothing was kept.
	return fail(ports, order, { to: "cancelled", reason: "abandoned" });
}

/** Ends a pending order the saga itself gave up on (its stock could not be taken, the card was declined). */
export function failPlacement(ports: SettlePorts, order: Order, failure: Failure): Promise<Order | null> {
	return fail(ports, order, failure);
}
