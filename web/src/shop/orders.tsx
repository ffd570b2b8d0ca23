/** The shopper's orders, live: status changes (shipped, refunded) show without a reload. */
import { useState } from "preact/hooks";
import { api, type Order, type Page } from "../api";
import { dateTime, money } from "../format";
import { useApi } from "../hooks";
import { ErrorAlert, Loading, Notice, StatusBadge } from "../ui";

export function MyOrders() {
	const orders = useApi<Page<Order>>("/api/orders?pageSize=50", 3000);
	const [error, setError] = useState<unknown>(null);
	const [notice, setNotice] = useState<string | null>(null);

	async function cancel(order: Order) {
		setError(null);
		setNotice(null);
		try {
			const { status, body } = await api.post<Order>(`/api/orders/${order.id}/cancel`);
			setNotice(
				status === 202 || body.status === "cancelling" ? "Cancelling: the refund and restock finish in a moment." : "The order is cancelled and refunded.",
			);
			orders.reload();
		} catch (err) {
			setError(err);
		}
	}

	return (
		<section aria-labelledby="orders-title">
			<h1 id="orders-title">Your orders</h1>
			{notice && <Notice>{notice}</Notice>}
			<ErrorAlert error={error ?? orders.error} />
			{!orders.data ? (
				<Loading what="your orders" />
			) : orders.data.rows.length === 0 ? (
				<p>
					No orders yet. <a href="#/">Browse the products</a>.
				</p>
			) : (
				<ul class="order-list">
					{orders.data.rows.map(order => (
						<li key={order.id} class="card order" data-order-id={order.id}>
							<div class="order-head">
								<StatusBadge status={order.status} />
								<span class="muted">{dateTime(order.createdAt)}</span>
								<strong>{money(order.total, order.currency)}</strong>
							</div>
							<ul class="items">
								{order.items.map(item => (
									<li key={item.productId}>
										{item.quantity} × {item.name}
									</li>
								))}
							</ul>
							{order.reason && <p class="muted">Reason: {order.reason.replace(/_/g, " ")}</p>}
							{order.status === "paid" && (
								<button type="button" onClick={() => cancel(order)}>
									Cancel and refund
								</button>
							)}
						</li>
					))}
				</ul>
			)}
		</section>
	);
}
