/**
 * The targets of issue 9 ("Bounded and fast"), measured on the 2-core development machine
 * against baselines of the same run. Each figure the benchmark prints is checked against
 * the target beside it; a target is met or not, never adjusted to the run.
 */
export type Target = { op: ">=" | "<="; limit: number; label: string };

export type Verdict = "met" | "not met" | "not measured";

const MB = 1024 * 1024;

export const atLeast = (limit: number, label: string): Target => ({ op: ">=", limit, label: `≥ ${label}` });
export const atMost = (limit: number, label: string): Target => ({ op: "<=", limit, label: `≤ ${label}` });

/** NaN is a figure the run could not measure (a run too short for it); Infinity one that never came (a drain that timed out). */
export function check(target: Target, value: number): Verdict {
	if (Number.isNaN(value)) return "not measured";
	return (target.op === ">=" ? value >= target.limit : value <= target.limit) ? "met" : "not met";
}

/** The sustained run the targets speak of ("the last 10 s window ... over 60 s", "after a 60 s order run"). */
export const TARGET_SUSTAINED_SECONDS = 60;

export const TARGETS = {
	embedded: {
		productGet: atLeast(0.85, "85% of moleculer-web"),
		productList: atLeast(0.6, "60% of moleculer-web"),
		me: atLeast(0.5, "50% of moleculer-web"),
		ordersPerSecond: atLeast(1000, "1,000 orders/s"),
		ordersP99Ms: atMost(100, "100 ms"),
		lastWindowOfFirst: atLeast(0.9, "90% of the first (over 60 s)"),
		diskPerOrder: atMost(4 * 1024, "4 KB"),
	},
	cluster: {
		productGet: atLeast(0.8, "80% of the remote baseline"),
		productList: atLeast(0.8, "80% of the remote baseline"),
		me: atLeast(0.4, "40% of the remote baseline"),
		analyticsDrainSeconds: atMost(10, "10 s (after 60 s of orders)"),
	},
	serviceRss: atMost(150 * MB, "150 MB"),
};
