/**
 * The shop's part of both benchmarks, against a gateway that is up: the four scenarios,
 * the sustained order run, and the time analytics takes to count every paid order of the run.
 */
import { count, micros, ms, seconds } from "./format";
import { measure, sustain, type Measured, type Sustained } from "./load";
import { cpuDuring, cpuMicrosOfAll } from "./processes";
import { progress, settings, warmAndMeasure } from "./run";
import { analyticsDrain, countedOrders, prepareShop, shopScenarios, type ShopFixture, type ShopScenarios } from "./shop";

/**
 * The customers the load signs up and buys as, the connections taking them in turn: as many
 * as the shop lets one address sign up within its limit (AUTH_RATE_LIMIT, 20 a minute, one
 * of them the admin's login), so that no customer's history stands for the whole shop's.
 */
const CUSTOMERS = 16;

export type ShopRun = {
	fixture: ShopFixture;
	/** Each scenario's name and what it measured, in the order they ran. */
	scenarios: Record<Exclude<keyof ShopScenarios, "otherProductGet">, { name: string; measured: Measured }>;
	/** Reads of another product and orders at the same time, half the connections each (no CPU per answer: they share the servers). */
	readsDuringOrders: { read: { name: string; measured: Measured }; order: { name: string; measured: Measured } };
	/** With the CPU time the shop used per paid order over the run. */
	sustained: Sustained & { name: string; cpuPerAnswerUs: number };
	/** Orders answered 201 (paid) during the whole run, warm-ups included. */
	paidOrders: number;
	/** From the end of the sustained run until analytics counted every paid order; Infinity if it did not within the timeout. */
	drain: { seconds: number; counted: number; expected: number };
};

const counting = (drain: ShopRun["drain"]) =>
	Number.isNaN(drain.counted) ? "not answered a single poll of its summary" : `counted ${count(drain.counted)} of ${count(drain.expected)} paid orders`;

/** A note for the report when analytics was still busy as the run went on (second baseline readings, disk use). */
export function drainNote(drain: ShopRun["drain"]): string | undefined {
	if (Number.isFinite(drain.seconds)) return undefined;
	return `Analytics had ${counting(drain)} when the benchmark stopped waiting: the shop was still working through its events for the rest of the run (the second baseline readings, and the disk figures of an embedded run).`;
}

/** The drain as the tables show it. */
export function drainShown(drain: ShopRun["drain"]): string {
	return Number.isFinite(drain.seconds) ? seconds(drain.seconds) : `not within ${settings.drainTimeoutSeconds} s (it had ${counting(drain)})`;
}

/** The connections of each of the two loads of reads during orders. */
const halfTheConnections = () => Math.max(1, Math.floor(settings.connections / 2));

/** Under the table of a run: what its last two rows are. */
export function readsDuringOrdersNote(): string {
	return `The last two rows ran at the same time, ${halfTheConnections()} connections each: reads of another product than the one ordered, while every order changes the ordered product's stock (and cleans its cached answers and the lists). They share the servers, so no CPU per answer is shown for them.`;
}

/**
 * Reads of another product than the one ordered while orders run, half the connections
 * each: every order changes the ordered product's stock, which cleans its cached answers and
 * the lists; what the reads of another product keep of their speed says how narrowly a
 * change cleans. `onOrders` hears every count of paid orders.
 */
async function measureReadsDuringOrders(url: string, scenario: ShopScenarios, onOrders: (ok: number) => void): Promise<ShopRun["readsDuringOrders"]> {
	const half = halfTheConnections();
	const both = async (seconds: number) => {
		const [read, order] = await Promise.all([
			measure(url, scenario.otherProductGet, { connections: half, seconds }),
			measure(url, scenario.order, { connections: half, seconds }),
		]);
		onOrders(order.ok);
		return { read, order };
	};
	progress(
		`${scenario.otherProductGet.name} and ${scenario.order.name} at once, ${half} connections each: ${settings.warmupSeconds} s warm-up, ${settings.seconds} s measured`,
	);
	await both(settings.warmupSeconds);
	const { read, order } = await both(settings.seconds);
	progress(`  ${Math.round(read.perSecond)} reads/s (p99 ${ms(read.p99)}) and ${Math.round(order.perSecond)} orders/s (p99 ${ms(order.p99)})`);
	return {
		read: { name: `${scenario.otherProductGet.name}, during orders`, measured: read },
		order: { name: `${scenario.order.name}, during those reads`, measured: order },
	};
}

/** `serverPids`: the shop's processes, whose CPU time per answer is measured. */
export async function measureShop(url: string, adminToken: string, serverPids: readonly number[]): Promise<ShopRun> {
	const fixture = await prepareShop(url, adminToken, CUSTOMERS);
	const countedBefore = await countedOrders(fixture);
	const scenario = shopScenarios(fixture);
	let paidOrders = 0;
	const measured = async (name: Exclude<keyof ShopScenarios, "otherProductGet">) => ({
		name: scenario[name].name,
		measured: await warmAndMeasure(url, scenario[name], serverPids, name === "order" ? ok => (paidOrders += ok) : undefined),
	});
	const scenarios = {
		productGet: await measured("productGet"),
		productList: await measured("productList"),
		me: await measured("me"),
		order: await measured("order"),
	};
	const readsDuringOrders = await measureReadsDuringOrders(url, scenario, ok => (paidOrders += ok));

	progress(`sustained ${scenario.order.name}: ${settings.sustainedSeconds} s`);
	const load = { connections: settings.connections, seconds: settings.sustainedSeconds };
	const { result: ran, cpuMicros } = await cpuDuring(serverPids, () =>
		sustain(
			url,
			scenario.order,
			load,
			settings.windowSeconds,
			w =>
				progress(
					`  ${w.fromS}-${w.toS} s: ${Math.round(w.perSecond)} orders/s, p50 ${ms(w.p50)}, p99 ${ms(w.p99)}, CPU ${micros(w.cpuPerAnswerUs ?? Number.NaN)} an order`,
				),
			() => cpuMicrosOfAll(serverPids),
		),
	);
	const sustained = { ...ran, cpuPerAnswerUs: cpuMicros / ran.ok };
	paidOrders += sustained.ok;

	const expected = countedBefore + paidOrders;
	progress(`waiting for analytics to count ${expected} paid orders (at most ${settings.drainTimeoutSeconds} s)`);
	const drain = await analyticsDrain(fixture, expected, settings.drainTimeoutSeconds * 1000, (counted, answered) =>
		progress(`  counted ${Number.isNaN(counted) ? "?" : counted} so far${answered ? "" : " (the summary did not answer the latest poll)"}`),
	);
	progress(Number.isFinite(drain.seconds) ? `  counted after ${drain.seconds.toFixed(1)} s` : `  gave up: analytics had ${counting({ ...drain, expected })}`);

	return { fixture, scenarios, readsDuringOrders, sustained: { name: scenario.order.name, ...sustained }, paidOrders, drain: { ...drain, expected } };
}
