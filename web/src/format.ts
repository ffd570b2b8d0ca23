/** How the console writes money, dates and order states. */

/** Minor units (cents) and an ISO currency code, as the API keeps money. */
export function money(minor: number, currency: string): string {
	return new Intl.NumberFormat("en", { style: "currency", currency }).format(minor / 100);
}

export function dateTime(iso: string): string {
	return new Date(iso).toLocaleString("en", { dateStyle: "medium", timeStyle: "short" });
}

export function time(iso: string): string {
	return new Date(iso).toLocaleTimeString("en", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** A YYYY-MM-DD day (UTC, as the analytics API counts days), `offset` days from today. */
export function day(offset = 0): string {
	return new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
}

const STATUS_LABELS: Record<string, string> = {
	pending: "Pending",
	paid: "Paid",
	shipped: "Shipped",
	delivered: "Delivered",
	cancelling: "Cancelling (refund under way)",
	cancelled: "Cancelled",
	payment_failed: "Payment failed",
};

export function statusLabel(status: string): string {
	return STATUS_LABELS[status] ?? status;
}

export function duration(seconds: number): string {
	if (seconds < 60) return `${seconds}s`;
	if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
	return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
}
