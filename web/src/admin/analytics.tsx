/** Sales and the shop's figures from the analytics rollups, for a date range. */
import { useState } from "preact/hooks";
import { ApiError, query } from "../api";
import { day, money } from "../format";
import { useApi } from "../hooks";
import { ErrorAlert, Field, Loading } from "../ui";
import { BarList, ColumnChart } from "./charts";
import { MAX_EVENTS, useDailyCounts } from "./daily-events";

/** Charted per day from the event log, with the rollup they are counted in. */
const DAILY_EVENTS = [
	["user.registered", "Sign-ups per day"],
	["payment.failed", "Payment failures per day"],
	["payment.refunded", "Refunds per day"],
] as const;

type Amounts = Record<string, number>;
type Summary = {
	orders: number;
	revenue: Amounts;
	signups: number;
	paymentFailures: number;
	refunds: { count: number; amount: Amounts };
	cancellations: number;
	eventsRecorded: number;
};
type SalesRow = { date: string; orders: number; revenue: Amounts };
type TopProduct = { productId: string; name: string; units: number; revenue: number; currency: string };

function amounts(values: Amounts): string {
	const entries = Object.entries(values);
	return entries.length === 0 ? money(0, "USD") : entries.map(([currency, amount]) => money(amount, currency)).join(" + ");
}

export function Analytics() {
	const [from, setFrom] = useState(day(-29));
	const [to, setTo] = useState(day());
	const summary = useApi<Summary>("/api/analytics/summary", 5000);
	const sales = useApi<SalesRow[]>(`/api/analytics/sales${query({ from, to })}`, 5000);
	const top = useApi<TopProduct[]>("/api/analytics/top-products?limit=8", 5000);
	const rangeError = (field: string) => (sales.error instanceof ApiError ? sales.error.forField(field) : undefined);

	// Revenue is charted in the currency that sold most in the range.
	const currencies = new Map<string, number>();
	for (const row of sales.data ?? []) for (const [c, a] of Object.entries(row.revenue)) currencies.set(c, (currencies.get(c) ?? 0) + a);
	const currency = [...currencies.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "USD";

	return (
		<section aria-labelledby="analytics-title">
			<h1 id="analytics-title">Analytics</h1>
			{!summary.data ? (
				<Loading what="the figures" />
			) : (
				<dl class="tiles" data-testid="summary">
					<Tile label="Orders paid" value={String(summary.data.orders)} />
					<Tile label="Revenue" value={amounts(summary.data.revenue)} />
					<Tile label="Sign-ups" value={String(summary.data.signups)} />
					<Tile label="Payment failures" value={String(summary.data.paymentFailures)} />
					<Tile label="Refunds" value={`${summary.data.refunds.count} (${amounts(summary.data.refunds.amount)})`} />
					<Tile label="Cancellations" value={String(summary.data.cancellations)} />
				</dl>
			)}
			<p class="muted">All-time figures. The charts below follow the date range.</p>

			<form class="filters" onSubmit={e => e.preventDefault()} aria-label="Date range">
				<Field id="from" label="From" type="date" value={from} max={to} error={rangeError("from")} onChange={e => setFrom(e.currentTarget.value)} />
				<Field id="to" label="To" type="date" value={to} min={from} error={rangeError("to")} onChange={e => setTo(e.currentTarget.value)} />
			</form>
			<ErrorAlert error={sales.error} shownFields={["from", "to"]} />
			{sales.data && (
				<div class="columns">
					<ColumnChart
						title={`Orders per day, ${from} to ${to}`}
						points={sales.data.map(r => ({ label: r.date, value: r.orders }))}
						format={v => String(Math.round(v))}
					/>
					<ColumnChart
						title={`Revenue per day (${currency})`}
						points={sales.data.map(r => ({ label: r.date, value: r.revenue[currency] ?? 0 }))}
						format={v => money(v, currency)}
					/>
				</div>
			)}
			{sales.data && (
				<div class="columns three">
					{DAILY_EVENTS.map(([type, title]) => (
						<DailyChart key={type} type={type} title={title} days={sales.data?.map(r => r.date) ?? []} />
					))}
				</div>
			)}
			<h2>Top products</h2>
			{top.data && (
				<BarList
					title="Units sold, all time"
					points={top.data.map(p => ({ label: p.name, value: p.units }))}
					format={v => `${v} ${v === 1 ? "unit" : "units"}`}
				/>
			)}
		</section>
	);
}

function Tile({ label, value }: { label: string; value: string }) {
	return (
		<div class="tile">
			<dt>{label}</dt>
			<dd>{value}</dd>
		</div>
	);
}

function DailyChart({ type, title, days }: { type: string; title: string; days: string[] }) {
	const from = days[0] ?? "";
	const to = days.at(-1) ?? "";
	const daily = useDailyCounts(type, from, to, 10_000);
	if (!daily) return <Loading what={title.toLowerCase()} />;
	const caption = daily.complete ? title : `${title} (the latest ${MAX_EVENTS} events only)`;
	return <ColumnChart title={caption} points={days.map(date => ({ label: date, value: daily.counts.get(date) ?? 0 }))} format={v => String(Math.round(v))} />;
}
