import type { ActionDocs } from "../action-doc";
import { page, ref } from "../schemas";

export const analyticsDocs: ActionDocs = {
	"analytics.summary": { summary: "All-time figures: orders, revenue, sign-ups, failures, refunds", body: ref("AnalyticsSummary") },
	"analytics.sales": { summary: "Sales per day (at most 366 days)", body: { type: "array", items: ref("SalesDay") } },
	"analytics.topProducts": { summary: "Products by units sold", body: { type: "array", items: ref("TopProduct") } },
	"analytics.events": { summary: "The event log, newest first", body: page(ref("LoggedEvent")) },
};
