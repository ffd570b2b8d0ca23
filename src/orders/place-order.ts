/**
 * The order saga (docs/architecture.md "The order saga"): store the order as pending, take the stock
 * item by item, charge, mark it paid. Every failure undoes what was done before it: the
 * stock taken is released and the order ends cancelled or payment_failed with a reason.
 *
 * It talks to the other services only through `OrderPorts`, so it is tested without a broker.
 */
import { createHash, randomUUID } from "node:crypto";
import { Errors } from "moleculer";
import { ConflictError, errorCode, errorType, InvalidInputError, PaymentDeclinedError, type FieldProblem } from "../errors";
import { RESERVE_MAX_QUANTITY } from "../catalog/stock";
import type { DeclineReason } from "../events";
import { lineTotal, MAX_AMOUNT, sumAmounts } from "../money";
import type { CardInput } from "../payments/cards";
import type { AuthUser } from "../types";
import type { Order, OrderItem } from "./order";
import type { CatalogProduct, OrderPorts } from "./ports";
import { failPlacement } from "./settle-order";

export type PlaceOrderRequest = { items: { productId: string; quantity: number }[]; payment: { method: "card"; card: CardInput } };

/** Thrown by OrderPorts.insertOrder when the idempotency scope is taken. */
export class DuplicateOrderError extends Error {}

export type PlaceOrderResult = { order: Order; replayed: boolean };

/** How long a replay waits for the first request's outcome: well under the request timeout. */
const REPLAY_WAIT_MS = 4_000;

/** Same product twice in one request: one line with the quantities added. */
export function mergeItems(items: PlaceOrderRequest["items"]): PlaceOrderRequest["items"] {
	const merged = new Map<string, number>();
	for (const { productId, quantity } of items) merged.set(productId, (merged.get(productId) ?? 0) + quantity);
	return [...merged].map(([productId, quantity]) => ({ productId, quantity }));
}

export function fingerprint(items: PlaceOrderRequest["items"]): string {
	const canonical = [...items].sort((a, b) => a.productId.localeCompare(b.productId));
	return createHash("sha256").update(JSON.stringify(canonical)).digest("hex");
}

/** Prices the items from the catalog; the client never sets a price. */
export function priceItems(items: PlaceOrderRequest["items"], products: CatalogProduct[]): { lines: OrderItem[]; total: number; currency: string } {
	const byId = new Map(products.map(p => [p.id, p]));
	const problems: FieldProblem[] = [];
	items.forEach((item, i) => {
		const product = byId.get(item.productId);
		if (!product || !product.active) problems.push({ field: `items[${i}].productId`, message: `Product ${item.productId} is not for sale` });
	});
	if (problems.length) throw new InvalidInputError("Some items cannot be ordered", problems);

	const lines = items.map(({ productId, quantity }) => {
		const product = byId.get(productId)!;
		return { productId, name: product.name, unitPrice: product.price, quantity, lineTotal: lineTotal(product.price, quantity) };
	});
	const currencies = new Set(lines.map(l => byId.get(l.productId)!.currency));
	if (currencies.size > 1) {
		throw new InvalidInputError("All items of an order must have the same currency", [{ field: "items", message: "mixed currencies" }]);
	}
	const tooMany = lines.filter(l => l.quantity > RESERVE_MAX_QUANTITY);
	if (tooMany.length) {
		throw new InvalidInputError(
			`At most ${RESERVE_MAX_QUANTITY} of one product per order`,
			tooMany.map(l => ({ field: "items", message: `too many of ${l.productId}` })),
		);
	}
	const total = sumAmounts(lines.map(l => l.lineTotal));
	if (total > MAX_AMOUNT) throw new InvalidInputError("The order total is too large", [{ field: "items", message: "total over the limit" }]);
	return { lines, total, currency: [...currencies][0] };
}

async function replay(ports: OrderPorts, existing: Order, requestFingerprint: string): Promise<PlaceOrderResult> {
	if (existing.requestFingerprint !== requestFingerprint) {
		throw new ConflictError("This Idempotency-Key was used for a different order", "IDEMPOTENCY_KEY_REUSED");
	}
	let order = existing;
	for (const deadline = Date.now() + REPLAY_WAIT_MS; order.status === "pending" && Date.now() < deadline;) {
		await ports.sleep(100);
		order = (await ports.findByScope(existing.idempotencyScope)) ?? order;
	}
	return { order, replayed: true };
}

export async function placeOrder(ports: OrderPorts, user: AuthUser, request: PlaceOrderRequest, idempotencyKey?: string): Promise<PlaceOrderResult> {
	const cardProblems = ports.cardProblems(request.payment.card);
	if (cardProblems.length) throw new InvalidInputError("The card is not valid", cardProblems);

	const items = mergeItems(request.items);
	const requestFingerprint = fingerprint(items);
	const idempotencyScope = `${user.id}:${idempotencyKey ?? randomUUID()}`;
	if (idempotencyKey) {
		const existing = await ports.findByScope(idempotencyScope);
		if (existing) return replay(ports, existing, requestFingerprint);
	}

	const { lines, total, currency } = priceItems(items, await ports.products(items.map(i => i.productId)));
	const now = new Date().toISOString();
	let order: Order;
	try {
		order = await ports.insertOrder({
			userId: user.id,
			status: "pending",
			items: lines,
			total,
			currency,
			idempotencyScope,
			requestFingerprint,
			paymentId: null,
			reason: null,
			history: [{ status: "pending", at: now }],
			createdAt: now,
			updatedAt: now,
		});
	} catch (err) {
		// The same key arrived twice at once: the other request owns the order.
		if (err instanceof DuplicateOrderError) return replay(ports, (await ports.findByScope(idempotencyScope))!, requestFingerprint);
		throw err;
	}
	try {
		for (const line of lines) await ports.reserve(order._id, line.productId, line.quantity);
	} catch (err) {
		// Our own "no": not enough stock, or the product went away (a missing service is not that).
		const outOfStock = errorType(err) === "OUT_OF_STOCK" || errorType(err) === "NOT_FOUND";
		// The order is settled first; its stock is given back now and once more by a sweeper.
		await failPlacement(ports, order, { to: "cancelled", reason: outOfStock ? "out_of_stock" : "reservation_failed" });
		if (outOfStock) {
			throw new ConflictError("Not enough stock for this order", "OUT_OF_STOCK", { orderId: order._id, ...(err as { data?: object }).data });
		}
		throw err;
	}

	let paymentId: string;
	try {
		paymentId = (await ports.charge({ orderId: order._id, userId: user.id, amount: total, currency, card: request.payment.card })).id;
	} catch (err) {
		const code = errorCode(err);
		if (err instanceof PaymentDeclinedError || code === 402) {
			// A definite "no" from payments: nothing was charged.
			await failPlacement(ports, order, { to: "payment_failed", reason: (errorType(err) ?? "card_declined") as DeclineReason });
			throw err;
		}
		if (code >= 400 && code < 500 && !(err as { retryable?: boolean }).retryable) {
			// Refused before any charge (the card's details, a conflicting charge): nothing was charged.
			await failPlacement(ports, order, { to: "payment_failed", reason: "processing_error" });
			throw err;
		}
		// No answer (timeout, payments or provider down): the charge may still go through.
		// The order stays pending, with its stock; the recovery of abandoned orders settles
		// it from the payment's outcome. A retry with the same Idempotency-Key shows it.
		throw new Errors.MoleculerRetryableError("The payment's outcome is not known yet; the order will be settled shortly", 503, "PAYMENT_PENDING", {
			orderId: order._id,
		});
	}

	const paid = await ports.transition(order, "paid", { paymentId }, "order.paid");
	if (!paid) {
		// The recovery of abandoned orders settled it meanwhile, from the same payment.
		const settled = (await ports.findByScope(idempotencyScope))!;
		if (settled.status === "paid") return { order: settled, replayed: false };
		// Cancelled meanwhile: the charge goes back (orders refunds a late charge on payment.succeeded too).
		await ports.refundOrder(order._id, "order_cancelled");
		throw new ConflictError("The order was abandoned before it was paid; the charge was refunded", "ORDER_ABANDONED", { orderId: order._id });
	}
	return { order: paid, replayed: false };
}
