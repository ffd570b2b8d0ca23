/** Every order by status, live, with what an operator may do next: ship, deliver, cancel, refund. */
import { useState } from "preact/hooks";
import { api, type Order, type Page } from "../api";
import { dateTime, money, statusLabel } from "../format";
import { useApi } from "../hooks";
import { ErrorAlert, Loading, Notice } from "../ui";

const COLUMNS = ["pending", "paid", "cancelling", "shipped", "delivered", "cancelled", "payment_failed"];

export function OrdersBoard() {
	const orders = useApi<Page<Order>>("/api/orders?pageSize=100", 3000);
	const [error, setError] = useState<unknown>(null);
	const [notice, setNotice] = useState<string | null>(null);

	async function act(what: string, run: () => Promise<{ status: number; body: unknown }>) {
		setError(null);
		setNotice(null);
		try {
			const { status } = await run();
			setNotice(status === 202 ? `${what}: accepted, finishing in a moment.` : `${what}: done.`);
		} catch (err) {
			setError(err);
		}
		orders.reload();
	}

	const byStatus = new Map<string, Order[]>(COLUMNS.map(status => [status, []]));
	for (const order of orders.data?.rows ?? []) byStatus.get(order.status)?.push(order);

	return (
		<section aria-labelledby="board-title">
			<h1 id="board-title">Orders</h1>
			<p class="muted">The latest 100 orders, by status; updated as they change.</p>
			{notice && <Notice>{notice}</Notice>}
			<ErrorAlert error={error ?? orders.error} />
			{!orders.data ? (
				<Loading what="orders" />
			) : (
				<div class="board">
					{COLUMNS.map(status => (
						<section key={status} class="board-column" aria-label={statusLabel(status)} data-status={status}>
							<h2>
								{statusLabel(status)} <span class="count">{byStatus.get(status)?.length ?? 0}</span>
							</h2>
							<ul>
								{(byStatus.get(status) ?? []).map(order => (
									<li key={order.id} class="card board-card" data-order-id={order.id}>
										<strong>{money(order.total, order.currency)}</strong>
										<span class="muted">{dateTime(order.createdAt)}</span>
										<span class="wrap small">{order.items.map(i => `${i.quantity} × ${i.name}`).join(", ")}</span>
										{order.reason && <span class="muted small">{order.reason.replace(/_/g, " ")}</span>}
										<div class="actions">
											{order.status === "paid" && (
												<button type="button" onClick={() => act("Shipped", () => api.patch(`/api/orders/${order.id}/status`, { status: "shipped" }))}>
													Ship
												</button>
											)}
											{order.status === "shipped" && (
												<button type="button" onClick={() => act("Delivered", () => api.patch(`/api/orders/${order.id}/status`, { status: "delivered" }))}>
													Deliver
												</button>
											)}
											{order.status === "paid" && (
												<button type="button" onClick={() => act("Cancelled", () => api.post(`/api/orders/${order.id}/cancel`))}>
													Cancel
												</button>
											)}
											{order.status === "paid" && order.paymentId && (
												<button type="button" onClick={() => act("Refunded", () => api.post(`/api/payments/${order.paymentId}/refund`))}>
													Refund
												</button>
											)}
										</div>
									</li>
								))}
							</ul>
						</section>
					))}
				</div>
			)}
		</section>
	);
}
