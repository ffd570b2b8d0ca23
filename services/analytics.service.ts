/**
 * analytics: the business events as they happened (a log kept for a while) and the
 * rollups the reports read (kept for good). Every business event arrives through the
 * durable-events mixin, at least once; src/analytics/record.ts makes it count once.
 *
 * One collection holds both: log entries (`kind: "event"`, key "event:<eventId>") and
 * rollups (`kind: "rollup"`, key "sales:2026-11-25:USD", ...). Every document's key is
 * its `_id`: unique, and found without a scan on every store.
 */
import type { ServiceSchema } from "moleculer";
import { DbMixin, type DbMethods } from "../mixins/db.mixin";
import { DurableEvents } from "../mixins/durable-events.mixin";
import { DAY_PATTERN, dayRange } from "../src/analytics/date-range";
import { eventView, recordEvent, retentionCutoff, type AnalyticsStore, type LogEntry } from "../src/analytics/record";
import { salesReport, summaryReport, topProductsReport, type SalesRow, type Summary, type TopProduct } from "../src/analytics/reports";
import { DAY_METRICS, type RollupDoc } from "../src/analytics/rollups";
import { config } from "../src/config";
import { EVENT_TYPES, type BusinessEvent } from "../src/events";
import { mapPage, pageParams, type PageRequest } from "../src/pagination";
import type { AppContext } from "../src/types";

type Methods = DbMethods & {
	store(): AnalyticsStore;
	record(event: BusinessEvent): Promise<void>;
	purgeLog(): Promise<number>;
};

type Vars = { purgeTimer?: NodeJS.Timeout };

/** Every business event of the catalog is logged; some are also counted. */
const RECORDED_EVENTS = EVENT_TYPES;

const PURGE_EVERY_MS = 60 * 60 * 1000;

const AnalyticsService: ServiceSchema<{ rest: string }, Methods, Vars> = {
	name: "analytics",

	// DurableEvents first: its `started` then runs after the db mixin's, so that no event
	// is handled before the store is connected and its unique index built.
	mixins: [
		DurableEvents,
		DbMixin({
			collection: "analytics",
			stringIds: true,
			fields: {
				kind: { type: String, required: true },
				key: { type: String, required: true },
				// log entries
				eventId: { type: String },
				type: { type: String },
				at: { type: String },
				data: { type: Object },
				receivedAt: { type: String },
				counted: { type: Boolean },
				countingBy: { type: String },
				countingUntil: { type: String },
				// rollups
				metric: { type: String },
				date: { type: String },
				currency: { type: String },
				productId: { type: String },
				name: { type: String },
				count: { type: Number },
				amount: { type: Number },
				// ids of the events being counted into a rollup right now (src/analytics/record.ts)
				applied: { type: [String], default: undefined },
			},
			indexes: [
				// Compound indexes serve MongoDB only; NeDB goes without them (db mixin).
				{ fields: { kind: 1, at: -1 } },
				{ fields: { kind: 1, type: 1, at: -1 } },
				{ fields: { receivedAt: 1 } },
				{ fields: { metric: 1, date: 1 } },
				{ fields: { metric: 1, count: -1, amount: -1 } },
			],
		}),
	],

	settings: {
		rest: "/analytics",
	},

	actions: {
		/** All-time figures, from the day rollups. */
		summary: {
			rest: "GET /summary",
			auth: "admin",
			retryPolicy: { enabled: true },
			async handler(): Promise<Summary> {
				const rollups = await this.findEntities<RollupDoc>({ query: { kind: "rollup", metric: { $in: [...DAY_METRICS] } } });
				return summaryReport(rollups);
			},
		},

		/** Orders and revenue per day from `from` to `to` (both included; by default the last 30 days). */
		sales: {
			rest: "GET /sales",
			auth: "admin",
			retryPolicy: { enabled: true },
			params: {
				from: { type: "string", pattern: DAY_PATTERN, optional: true },
				to: { type: "string", pattern: DAY_PATTERN, optional: true },
				interval: { type: "enum", values: ["day"], default: "day" },
			},
			async handler(ctx: AppContext<{ from?: string; to?: string; interval: "day" }>): Promise<SalesRow[]> {
				const range = dayRange(ctx.params, new Date());
				const rollups = await this.findEntities<RollupDoc>({ query: { kind: "rollup", metric: "sales", date: { $gte: range.from, $lte: range.to } } });
				return salesReport(range.days, rollups);
			},
		},

		/** Best sellers by units, then revenue. */
		topProducts: {
			rest: "GET /top-products",
			auth: "admin",
			retryPolicy: { enabled: true },
			params: { limit: { type: "number", integer: true, min: 1, max: 100, default: 10, convert: true } },
			async handler(ctx: AppContext<{ limit: number }>): Promise<TopProduct[]> {
				const rollups = await this.findEntities<RollupDoc>({
					query: { kind: "rollup", metric: "product" },
					sort: ["-count", "-amount"],
					limit: ctx.params.limit,
				});
				return topProductsReport(rollups, ctx.params.limit);
			},
		},

		/** The event log, newest first; kept for config.analytics.retentionDays. */
		events: {
			rest: "GET /events",
			auth: "admin",
			retryPolicy: { enabled: true },
			params: { ...pageParams, type: { type: "string", min: 1, max: 100, optional: true } },
			async handler(ctx: AppContext<PageRequest & { type?: string }>) {
				const query: Record<string, unknown> = { kind: "event" };
				if (ctx.params.type) query.type = ctx.params.type;
				return mapPage(await this.findPage<LogEntry>(query, ["-at", "-receivedAt"], ctx.params), eventView);
			},
		},
	},

	durableEvents: Object.fromEntries(
		RECORDED_EVENTS.map(type => [
			type,
			async function (this: Methods, event: BusinessEvent) {
				await this.record(event);
			},
		]),
	),

	methods: {
		/** The collection as record.ts needs it. */
		store(): AnalyticsStore {
			return {
				insertIfNew: async doc => (await this.insertEntityIfNew(doc)) !== null,
				byId: id => this.findEntityById(id),
				update: (query, update) => this.updateEntities(query, update),
				lacks: (field, value) => this.lacks(field, value),
			};
		},

		async record(event: BusinessEvent) {
			await recordEvent(this.store(), event, new Date());
		},

		/**
		 * Drops log entries received more than retentionDays ago. Rollups stay. An entry is
		 * also the "already counted" marker of its event, so the log must outlive the
		 * redelivery window of the event stream (config.events.retentionDays).
		 */
		async purgeLog() {
			const cutoff = retentionCutoff(new Date(), config.analytics.retentionDays);
			const removed = await this.removeEntities({ kind: "event", receivedAt: { $lt: cutoff } });
			if (removed > 0) this.logger.info(`Removed ${removed} analytics log entries received before ${cutoff}`);
			return removed;
		},
	},

	async started() {
		if (config.analytics.retentionDays < config.events.retentionDays) {
			this.logger.warn(
				`ANALYTICS_RETENTION_DAYS (${config.analytics.retentionDays}) is shorter than EVENTS_RETENTION_DAYS (${config.events.retentionDays}): ` +
					"an event redelivered after its log entry is removed would be counted again.",
			);
		}
		await this.purgeLog();
		this.purgeTimer = setInterval(() => {
			this.purgeLog().catch(err => this.logger.error("Purging the analytics log failed:", err));
		}, PURGE_EVERY_MS);
		this.purgeTimer.unref();
	},

	stopped() {
		clearInterval(this.purgeTimer);
	},
};

export default AnalyticsService;
