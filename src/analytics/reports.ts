/**
 * Reports put together from rollup documents (src/analytics/rollups.ts), never from the
 * event log. Amounts are minor units per currency code.
 */
import type { RollupDoc } from "./rollups";

export type AmountsByCurrency = Record<string, number>;

export type Summary = {
	orders: number;
	revenue: AmountsByCurrency;
	signups: number;
	paymentFailures: number;
	refunds: { count: number; amount: AmountsByCurrency };
	cancellations: number;
	eventsRecorded: number;
};

export type SalesRow = { date: string; orders: number; revenue: AmountsByCurrency };

export type TopProduct = { productId: string; name: string; units: number; revenue: number; currency: string };

function addTo(amounts: AmountsByCurrency, currency: string | undefined, amount: number | undefined): void {
	if (!currency) return;
	amounts[currency] = (amounts[currency] ?? 0) + (amount ?? 0);
}

/** All-time figures: the sum of the day rollups. Product rollups are not needed. */
export function summaryReport(rollups: RollupDoc[]): Summary {
	const summary: Summary = { orders: 0, revenue: {}, signups: 0, paymentFailures: 0, refunds: { count: 0, amount: {} }, cancellations: 0, eventsRecorded: 0 };
	for (const rollup of rollups) {
		const count = rollup.count ?? 0;
		switch (rollup.metric) {
			case "events":
				summary.eventsRecorded += count;
				break;
			case "sales":
				summary.orders += count;
				addTo(summary.revenue, rollup.currency, rollup.amount);
				break;
			case "signups":
				summary.signups += count;
				break;
			case "failures":
				summary.paymentFailures += count;
				break;
			case "refunds":
				summary.refunds.count += count;
				addTo(summary.refunds.amount, rollup.currency, rollup.amount);
				break;
			case "cancellations":
				summary.cancellations += count;
				break;
		}
	}
	return summary;
}

/** One row per day of `days`, in order; zero orders and no revenue on a day without sales. */
export function salesReport(days: string[], rollups: RollupDoc[]): SalesRow[] {
	const rows = new Map<string, SalesRow>(days.map(date => [date, { date, orders: 0, revenue: {} }]));
	for (const rollup of rollups) {
		const row = rollup.metric === "sales" && rollup.date ? rows.get(rollup.date) : undefined;
		if (!row) continue;
		row.orders += rollup.count ?? 0;
		addTo(row.revenue, rollup.currency, rollup.amount);
	}
	return [...rows.values()];
}

/** Best sellers: most units first, then most revenue; at most `limit`. */
export function topProductsReport(rollups: RollupDoc[], limit: number): TopProduct[] {
	return rollups
		.filter(rollup => rollup.metric === "product" && rollup.productId)
		.map(rollup => ({
			productId: rollup.productId as string,
			name: rollup.name ?? "",
			units: rollup.count ?? 0,
			revenue: rollup.amount ?? 0,
			currency: rollup.currency ?? "",
		}))
		.sort((a, b) => b.units - a.units || b.revenue - a.revenue || a.productId.localeCompare(b.productId))
		.slice(0, limit);
}
