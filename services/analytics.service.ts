/**
 * analytics: the business events as they happened (a log kept for a while) and the
 * rollups the reports read (kept for good). Every business event arrives through the
 * durable-events mixin, at least once, and counts once.
 *
 * Three stores, each keyed by `_id`, so that FerretDB finds a key without a scan:
 * - the main collection (`analytics`): the rollups ("sales:2026-11-25:USD", ...), which the
 *   reports read, and the roller's job record; small, so a report's query stays cheap;
 * - `analytics_inbox`: the events received and not counted yet (src/analytics/record.ts),
 *   as many as are in flight; a delivery writes one record there and is done;
 * - `analytics_log`: the events counted, by event id, kept ANALYTICS_RETENTION_DAYS.
 * The roller (src/analytics/roll.ts) moves the inbox into the rollups and the log in
 * batches: right after events come in (one run per instance at a time) and on a timer,
 * which finishes what an instance that died left.
 */
import type { ServiceSchema } from "moleculer";
import { DbMixin, type DbMethods } from "../mixins/db.mixin";
import { DurableEvents } from "../mixins/durable-events.mixin";
import { DAY_PATTERN, dayRange } from "../src/analytics/date-range";
import {
	ANALYTICS_INBOX,
	ANALYTICS_LOG,
	EVENTS_PAGE_SORT,
	eventView,
	receiveEvent,
	retentionCutoff,
	type InboxEntry,
	type LogEntry,
} from "../src/analytics/record";
import { salesReport, summaryReport, topProductsReport, type SalesRow, type Summary, type TopProduct } from "../src/analytics/reports";
import { roll, type RollStores } from "../src/analytics/roll";
import { DAY_METRICS, type RollupDoc } from "../src/analytics/rollups";
import { config } from "../src/config";
import { EVENT_TYPES, type BusinessEvent } from "../src/events";
import { mapPage, pageWindow, pageParams, toPage, type PageRequest } from "../src/pagination";
import { openCollection, type Collection } from "../src/storage/collection";
import type { AppContext } from "../src/types";

type Methods = DbMethods & {
	rollStores(): RollStores;
	record(event: BusinessEvent): Promise<void>;
	rollSoon(): void;
	purgeLog(): Promise<number>;
};

type Vars = {
	inbox: Collection<InboxEntry>;
	log: Collection<LogEntry>;
	purgeTimer?: NodeJS.Timeout;
	rollTimer?: NodeJS.Timeout;
	/** The roller's run in this instance, if one is under way; `rollAgain` asks it for one more round. */
	rolling?: Promise<void>;
	rollAgain: boolean;
	stopping: boolean;
};

/** Every business event of the catalog is logged; some are also counted. */
const RECORDED_EVENTS = EVENT_TYPES;

const PURGE_EVERY_MS = 60 * 60 * 1000;
/** How often an idle instance looks for events nobody is counting (an instance died mid-batch). */
const ROLL_EVERY_MS = 5_000;
/** How long a round of the roller lets events gather first: a batch costs some writes of its own, whatever its size. */
const ROLL_GATHER_MS = 200;
const ROLL_BATCH_SIZE = 500;
/** How long one step of a batch may take before another roller may take the batch over. */
const ROLL_LEASE_MS = 30_000;

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
				// rollups
				metric: { type: String },
				date: { type: String },
				currency: { type: String },
				productId: { type: String },
				name: { type: String },
				count: { type: Number },
				amount: { type: Number },
				// the batch being counted into a rollup right now (src/analytics/roll.ts)
				batches: { type: [String], default: undefined },
				// a rollup: the epoch of the last roller that wrote it; the job: the lease holder's
				epoch: { type: Number },
				// the job
				leaseUntil: { type: String },
				batchId: { type: String },
				batchEvents: { type: [String], default: undefined },
				batchCounted: { type: Boolean },
			},
			indexes: [{ fields: { metric: 1, date: 1 } }, { fields: { metric: 1, count: -1, amount: -1 } }],
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
				const query = ctx.params.type ? { type: ctx.params.type } : {};
				const { pageSize, offset } = pageWindow(ctx.params);
				const [rows, total] = await Promise.all([this.log.find(query, { sort: EVENTS_PAGE_SORT, skip: offset, limit: pageSize }), this.log.count(query)]);
				return mapPage(toPage(rows, total, ctx.params), eventView);
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
		/** The three collections as the roller needs them. */
		rollStores(): RollStores {
			return {
				inbox: this.inbox,
				log: this.log,
				main: {
					byId: id => this.findEntityById(id),
					insertIfNew: async doc => (await this.insertEntityIfNew(doc)) !== null,
					updateOne: (query, update) => this.updateEntityIf(query, update),
				},
				lacks: (field, value) => this.lacks(field, value),
			};
		},

		async record(event: BusinessEvent) {
			if (await receiveEvent(this, event, new Date())) this.rollSoon();
		},

		/** Runs the roller unless it runs in this instance already; then it goes round once more. */
		rollSoon() {
			if (this.rolling) {
				this.rollAgain = true;
				return;
			}
			const run = async () => {
				do {
					this.rollAgain = false;
					await new Promise(resolve => setTimeout(resolve, ROLL_GATHER_MS));
					await roll(this.rollStores(), {
						batchSize: ROLL_BATCH_SIZE,
						leaseMs: ROLL_LEASE_MS,
						now: () => new Date(),
						onMalformed: (entry, err) => this.logger.warn(`Dropped event ${entry._id} (${entry.type}) from the analytics inbox: ${err.message}`),
						stopping: () => this.stopping,
					});
				} while (this.rollAgain && !this.stopping);
			};
			this.rolling = run()
				.catch(err => this.logger.error("Counting the analytics inbox failed:", err))
				.finally(() => {
					this.rolling = undefined;
				});
		},

		/**
		 * Drops log entries received more than retentionDays ago. Rollups stay. An entry is
		 * also the "already counted" marker of its event, so the log must outlive the
		 * redelivery window of the event stream (config.events.retentionDays).
		 */
		async purgeLog() {
			const cutoff = retentionCutoff(new Date(), config.analytics.retentionDays);
			const removed = await this.log.removeMany({ receivedAt: { $lt: cutoff } });
			if (removed > 0) this.logger.info(`Removed ${removed} analytics log entries received before ${cutoff}`);
			return removed;
		},
	},

	created() {
		this.inbox = openCollection<InboxEntry>(ANALYTICS_INBOX);
		this.log = openCollection<LogEntry>(ANALYTICS_LOG);
		this.rollAgain = false;
		this.stopping = false;
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
		this.rollTimer = setInterval(() => this.rollSoon(), ROLL_EVERY_MS);
		this.rollTimer.unref();
		this.rollSoon();
	},

	async stopped() {
		this.stopping = true;
		clearInterval(this.purgeTimer);
		clearInterval(this.rollTimer);
		await this.rolling;
		await Promise.all([this.inbox.close(), this.log.close()]);
	},
};

export default AnalyticsService;
