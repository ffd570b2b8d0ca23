import type { RollupDoc } from "../../src/analytics/rollups";
import { salesReport, summaryReport, topProductsReport } from "../../src/analytics/reports";

function rollup(key: string, fields: Omit<RollupDoc, "kind" | "key" | "_id">): RollupDoc {
	return { _id: key, kind: "rollup", key, ...fields };
}

const ROLLUPS: RollupDoc[] = [
	rollup("events:2026-11-24", { metric: "events", date: "2026-11-24", count: 7 }),
	rollup("events:2026-11-25", { metric: "events", date: "2026-11-25", count: 5 }),
	rollup("sales:2026-11-24:USD", { metric: "sales", date: "2026-11-24", currency: "USD", count: 2, amount: 3000 }),
	rollup("sales:2026-11-25:USD", { metric: "sales", date: "2026-11-25", currency: "USD", count: 1, amount: 500 }),
	rollup("sales:2026-11-25:EUR", { metric: "sales", date: "2026-11-25", currency: "EUR", count: 1, amount: 900 }),
	rollup("signups:2026-11-25", { metric: "signups", date: "2026-11-25", count: 3 }),
	rollup("failures:2026-11-24", { metric: "failures", date: "2026-11-24", count: 1 }),
	rollup("refunds:2026-11-25:USD", { metric: "refunds", date: "2026-11-25", currency: "USD", count: 1, amount: 500 }),
	rollup("cancellations:2026-11-25", { metric: "cancellations", date: "2026-11-25", count: 2 }),
	rollup("product:p1:USD", { metric: "product", productId: "p1", currency: "USD", name: "Mug", count: 4, amount: 4000 }),
];

it("sums the day rollups into all-time figures, revenue per currency", () => {
	expect(summaryReport(ROLLUPS)).toEqual({
		orders: 4,
		revenue: { USD: 3500, EUR: 900 },
		signups: 3,
		paymentFailures: 1,
		refunds: { count: 1, amount: { USD: 500 } },
		cancellations: 2,
		eventsRecorded: 12,
	});
});

it("answers zeros when nothing was recorded", () => {
	expect(summaryReport([])).toEqual({
		orders: 0,
		revenue: {},
		signups: 0,
		paymentFailures: 0,
		refunds: { count: 0, amount: {} },
		cancellations: 0,
		eventsRecorded: 0,
	});
});

it("gives one sales row per day asked for, zeros on a day without sales", () => {
	expect(salesReport(["2026-11-23", "2026-11-24", "2026-11-25"], ROLLUPS)).toEqual([
		{ date: "2026-11-23", orders: 0, revenue: {} },
		{ date: "2026-11-24", orders: 2, revenue: { USD: 3000 } },
		{ date: "2026-11-25", orders: 2, revenue: { USD: 500, EUR: 900 } },
	]);
	expect(salesReport(["2026-11-25"], ROLLUPS)).toHaveLength(1);
});

it("ranks products by units, then by revenue, and keeps the limit", () => {
	const products = [
		rollup("product:a:USD", { metric: "product", productId: "a", currency: "USD", name: "A", count: 2, amount: 100 }),
		rollup("product:b:USD", { metric: "product", productId: "b", currency: "USD", name: "B", count: 5, amount: 50 }),
		rollup("product:c:USD", { metric: "product", productId: "c", currency: "USD", name: "C", count: 2, amount: 900 }),
	];
	expect(topProductsReport(products, 10)).toEqual([
		{ productId: "b", name: "B", units: 5, revenue: 50, currency: "USD" },
		{ productId: "c", name: "C", units: 2, revenue: 900, currency: "USD" },
		{ productId: "a", name: "A", units: 2, revenue: 100, currency: "USD" },
	]);
	expect(topProductsReport(products, 1).map(p => p.productId)).toEqual(["b"]);
	expect(topProductsReport(ROLLUPS, 10).map(p => p.productId)).toEqual(["p1"]);
});
