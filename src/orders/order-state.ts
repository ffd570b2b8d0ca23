/**
 * The order's state machine (docs/architecture.md): pending -> paid -> shipped -> delivered;
 * pending -> cancelled | payment_failed; paid -> cancelling -> cancelled. Any other move
 * is a 409. `cancelling` is the claim: the one request that moved the order there (or a
 * sweeper, if that request died) refunds and restocks it; nobody can ship it meanwhile.
 */
import { ConflictError } from "../errors";

export const ORDER_STATUSES = ["pending", "paid", "shipped", "delivered", "cancelling", "cancelled", "payment_failed"] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

const MOVES: Record<OrderStatus, readonly OrderStatus[]> = {
	pending: ["paid", "cancelled", "payment_failed"],
	paid: ["shipped", "cancelling"],
	cancelling: ["cancelled"],
	shipped: ["delivered"],
	delivered: [],
	cancelled: [],
	payment_failed: [],
};

export function canMove(from: OrderStatus, to: OrderStatus): boolean {
	return MOVES[from].includes(to);
}

export function assertMove(from: OrderStatus, to: OrderStatus): void {
	if (!canMove(from, to)) {
		throw new ConflictError(`An order that is ${from} cannot become ${to}`, "INVALID_TRANSITION", { from, to });
	}
}

/** Orders whose items count as sold (they hold stock and were paid for). */
export const SOLD_STATUSES: readonly OrderStatus[] = ["paid", "shipped", "delivered"];
