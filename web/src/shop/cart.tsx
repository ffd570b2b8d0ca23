/**
 * The cart and checkout. Each attempt carries an Idempotency-Key: a retry after a lost
 * answer reuses it (one order, one charge); a new key is made once an answer arrived.
 */
import { useState } from "preact/hooks";
import { api, ApiError, type Order } from "../api";
import { money } from "../format";
import { useApp } from "../state";
import { ErrorAlert, Field, Notice, StatusBadge } from "../ui";

const TEST_CARDS = [
	["4242424242424242", "always paid"],
	["4000000000000002", "declined"],
	["4000000000009995", "insufficient funds"],
] as const;

const DECLINES: Record<string, string> = {
	card_declined: "Your card was declined. Nothing was charged; try another card.",
	insufficient_funds: "Your card was declined for insufficient funds. Nothing was charged.",
	expired_card: "Your card has expired.",
	incorrect_cvc: "The security code (CVC) is wrong.",
};

const CARD_FIELDS = ["number", "expMonth", "expYear", "cvc"].map(f => `payment.card.${f}`);

export function Cart() {
	const { cart, setQuantity, clearCart, session, refreshUnread } = useApp();
	const [card, setCard] = useState({ number: "", expMonth: "12", expYear: String(new Date().getFullYear() + 3), cvc: "" });
	const [key, setKey] = useState(() => crypto.randomUUID());
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState<unknown>(null);
	const [placed, setPlaced] = useState<Order | null>(null);

	// An order takes one currency (the API refuses a mix); the total is per currency.
	const totals = new Map<string, number>();
	for (const line of cart) totals.set(line.currency, (totals.get(line.currency) ?? 0) + line.price * line.quantity);
	const totalText = [...totals].map(([currency, amount]) => money(amount, currency)).join(" + ");
	const fieldError = (field: string) => (error instanceof ApiError ? error.forField(`payment.card.${field}`) : undefined);

	async function checkout(e: Event) {
		e.preventDefault();
		setBusy(true);
		setError(null);
		try {
			const { body } = await api.post<Order>(
				"/api/orders",
				{
					items: cart.map(line => ({ productId: line.productId, quantity: line.quantity })),
					payment: {
						method: "card",
						card: { number: card.number.replace(/\s+/g, ""), expMonth: Number(card.expMonth), expYear: Number(card.expYear), cvc: card.cvc },
					},
				},
				{ "idempotency-key": key },
			);
			setPlaced(body);
			clearCart();
			refreshUnread();
			setKey(crypto.randomUUID());
		} catch (err) {
			setError(err);
			// The API answered: the next attempt is a new request. A network failure keeps the key.
			if (err instanceof ApiError) setKey(crypto.randomUUID());
		} finally {
			setBusy(false);
		}
	}

	if (placed) {
		return (
			<section aria-labelledby="cart-title">
				<h1 id="cart-title">Thank you</h1>
				<Notice>
					<p>
						Order <code>{placed.id}</code> is <StatusBadge status={placed.status} />: {money(placed.total, placed.currency)}.
					</p>
					<p>
						<a href="#/orders">See your orders</a> · <a href="#/">Keep shopping</a>
					</p>
				</Notice>
			</section>
		);
	}

	const declined = error instanceof ApiError && error.status === 402;
	return (
		<section aria-labelledby="cart-title">
			<h1 id="cart-title">Cart</h1>
			{cart.length === 0 ? (
				<p>
					Your cart is empty. <a href="#/">Browse the products</a>.
				</p>
			) : (
				<>
					<div class="table-wrap">
						<table class="table cart-table">
							<caption class="visually-hidden">Items in your cart</caption>
							<thead>
								<tr>
									<th scope="col">Product</th>
									<th scope="col">Price</th>
									<th scope="col">Quantity</th>
									<th scope="col">Total</th>
								</tr>
							</thead>
							<tbody>
								{cart.map(line => (
									<tr key={line.productId}>
										<td>
											<a href={`#/product/${line.productId}`}>{line.name}</a>
										</td>
										<td>{money(line.price, line.currency)}</td>
										<td>
											<label class="visually-hidden" for={`qty-${line.productId}`}>
												Quantity of {line.name}
											</label>
											<input
												id={`qty-${line.productId}`}
												class="qty"
												type="number"
												min={0}
												value={line.quantity}
												onChange={e => setQuantity(line.productId, Number(e.currentTarget.value) || 0)}
											/>
											<button type="button" class="link" onClick={() => setQuantity(line.productId, 0)} aria-label={`Remove ${line.name}`}>
												Remove
											</button>
										</td>
										<td>{money(line.price * line.quantity, line.currency)}</td>
									</tr>
								))}
							</tbody>
							<tfoot>
								<tr>
									<th scope="row" colSpan={3}>
										Total
									</th>
									<td data-testid="cart-total">{totalText}</td>
								</tr>
							</tfoot>
						</table>
					</div>

					{!session ? (
						<p>
							<a href="#/login?next=/cart">Log in</a> or <a href="#/signup?next=/cart">sign up</a> to check out.
						</p>
					) : (
						<form class="card checkout" onSubmit={checkout} aria-labelledby="pay-title">
							<h2 id="pay-title">Pay by card</h2>
							<p class="hint">
								Sandbox test cards:{" "}
								{TEST_CARDS.map(([number, what]) => (
									<button key={number} type="button" class="chip" onClick={() => setCard({ ...card, number, cvc: card.cvc || "123" })}>
										{number} ({what})
									</button>
								))}
							</p>
							<Field
								id="card-number"
								label="Card number"
								inputMode="numeric"
								autoComplete="cc-number"
								required
								value={card.number}
								error={fieldError("number")}
								onInput={e => setCard({ ...card, number: e.currentTarget.value })}
							/>
							<div class="row">
								<Field
									id="card-month"
									label="Expiry month"
									type="number"
									min={1}
									max={12}
									required
									value={card.expMonth}
									error={fieldError("expMonth")}
									onInput={e => setCard({ ...card, expMonth: e.currentTarget.value })}
								/>
								<Field
									id="card-year"
									label="Expiry year"
									type="number"
									required
									value={card.expYear}
									error={fieldError("expYear")}
									onInput={e => setCard({ ...card, expYear: e.currentTarget.value })}
								/>
								<Field
									id="card-cvc"
									label="CVC"
									inputMode="numeric"
									autoComplete="cc-csc"
									required
									value={card.cvc}
									error={fieldError("cvc")}
									onInput={e => setCard({ ...card, cvc: e.currentTarget.value })}
								/>
							</div>
							{totals.size > 1 && <p class="warn">An order is paid in one currency: keep the items of one currency in the cart.</p>}
							{declined ? (
								<div class="alert error" role="alert">
									<p>
										<strong>Payment declined.</strong> {DECLINES[(error as ApiError).type ?? ""] ?? (error as ApiError).message}
									</p>
								</div>
							) : (
								<ErrorAlert error={error} shownFields={CARD_FIELDS} />
							)}
							<button type="submit" class="primary" disabled={busy}>
								{busy ? "Paying…" : `Pay ${totalText}`}
							</button>
						</form>
					)}
				</>
			)}
		</section>
	);
}
