import { bytes, count, micros, ms, percent, table } from "../../bench/lib/format";
import { cpuMicrosOfStat, npmStartEnvironment } from "../../bench/lib/processes";
import type { Measured } from "../../bench/lib/load";
import { baselineRows, compared, figure, render, spreadWarning } from "../../bench/lib/report";
import { atLeast, atMost, check } from "../../bench/lib/targets";

const measured = (perSecond: number): Measured => ({ perSecond, p50: 1, p99: 2, ok: perSecond, errors: 0, statuses: { "200": perSecond } });

describe("benchmark report", () => {
	it("formats counts, fractions, latencies and sizes as the tables show them", () => {
		expect(count(24_612.4)).toBe("24,612");
		expect(percent(0.654)).toBe("65%");
		expect(percent(0.0058)).toBe("0.6%");
		expect(ms(243.4)).toBe("243 ms");
		expect(bytes(512)).toBe("512 B");
		expect(bytes(66 * 1024)).toBe("66.0 KB");
		expect(bytes(306 * 1024 * 1024)).toBe("306 MB");
		expect(count(Number.NaN)).toBe("-");
		expect(micros(51.6)).toBe("52 us");
		expect(micros(Number.NaN)).toBe("-");
	});

	it("reads a process's CPU time from its /proc stat line, whatever its name", () => {
		// utime 250 and stime 50 ticks at 100 a second: 3 s; the name has a space and a parenthesis.
		const stat = "4242 (node (shop) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 11 0 100 1000 2000";
		expect(cpuMicrosOfStat(stat, 100)).toBe(3_000_000);
	});

	it("starts the embedded shop with the environment npm start gives it", () => {
		const script = 'npm run build && SERVICEDIR=dist/services A_B=2 NODE_OPTIONS="--expose-gc $BENCH_TEST_UNSET" moleculer-runner --config x.js';
		expect(npmStartEnvironment(script)).toEqual({ SERVICEDIR: "dist/services", A_B: "2", NODE_OPTIONS: "--expose-gc" });
		expect(npmStartEnvironment("SERVICEDIR=dist/services moleculer-runner")).toEqual({ SERVICEDIR: "dist/services" });
		const env = npmStartEnvironment();
		expect(env.SERVICEDIR).toBe("dist/services");
		expect(env.NODE_OPTIONS?.split(" ")).toContain("--expose-gc");
		expect(env.MALLOC_MMAP_THRESHOLD_).toBe("131072");
	});

	it("prints a Markdown table with padded columns, numbers on the right", () => {
		const text = table(
			["scenario", "req/s"],
			[
				["GET /a", "9"],
				["GET /longer", "12,900"],
			],
			["req/s"],
		);
		expect(text.split("\n")).toEqual(["| scenario    |  req/s |", "|-------------|-------:|", "| GET /a      |      9 |", "| GET /longer | 12,900 |"]);
	});

	it("checks at-least and at-most targets, and tells a figure it could not measure", () => {
		expect(check(atLeast(0.85, "85%"), 0.85)).toBe("met");
		expect(check(atLeast(0.85, "85%"), 0.84)).toBe("not met");
		expect(check(atMost(100, "100 ms"), 243)).toBe("not met");
		expect(check(atMost(10, "10 s"), Number.POSITIVE_INFINITY)).toBe("not met");
		expect(check(atLeast(0.9, "90%"), Number.NaN)).toBe("not measured");
	});

	it("puts a scenario beside its baseline and its target", () => {
		const result = compared("GET /api/products/:id", measured(24_600), "moleculer-web", measured(37_600), atLeast(0.85, "85% of moleculer-web"));
		expect(result.ofBaseline).toBeCloseTo(0.654, 3);
		expect(result).toMatchObject({ baseline: "moleculer-web", target: "≥ 85% of moleculer-web", verdict: "not met" });
		expect(compared("POST /api/orders", measured(217), "moleculer-web", measured(37_600)).verdict).toBeUndefined();
		expect(figure("RSS", 120 * 1024 * 1024, "120 MB", atMost(150 * 1024 * 1024, "150 MB"))).toMatchObject({ target: "≤ 150 MB", verdict: "met" });
	});
});

describe("baseline readings", () => {
	it("warns when the readings before and after the shop disagree by more than 15%", () => {
		expect(spreadWarning("moleculer-web", [measured(37_600), measured(33_000)])).toBeUndefined();
		expect(spreadWarning("moleculer-web", [measured(6_628), measured(3_297)])).toBe(
			"The readings of moleculer-web differ by 50%: other work was using the CPU during one of them, so every figure of this run is less certain.",
		);
	});
});

describe("the printed report", () => {
	it("shows the scenarios, the windows of the sustained run and the figures, and tallies the targets", () => {
		const text = render({
			title: "Embedded",
			startedAt: "2026-11-26T12:00:00.000Z",
			machine: { cpus: 2, cpuModel: "Xeon", memoryBytes: 8 * 1024 ** 3, node: "24.21.0", platform: "Linux", loadAverage: { start: 1, end: 2 } },
			settings: { connections: 32, seconds: 10, warmupSeconds: 2, sustainedSeconds: 20, windowSeconds: 10 },
			scenarios: [
				...baselineRows("moleculer-web", [measured(37_600), measured(36_000)]),
				compared(
					"GET /api/products/:id",
					{ ...measured(24_600), cpuPerAnswerUs: 47.4 },
					"moleculer-web",
					measured(37_600),
					atLeast(0.85, "85% of moleculer-web"),
				),
				compared(
					"GET /api/users/me",
					{ ...measured(20_000), errors: 5, statuses: { "200": 20_000, "503": 3 } },
					"moleculer-web",
					measured(37_600),
					atLeast(0.5, "50% of moleculer-web"),
				),
			],
			notes: ["Ratios are to the faster reading of moleculer-web."],
			sustained: {
				name: "POST /api/orders",
				...measured(232),
				seconds: 20,
				windows: [
					{ fromS: 0, toS: 10, ok: 2320, perSecond: 232, p50: 120, p99: 240 },
					{ fromS: 10, toS: 20, ok: 970, perSecond: 97, p50: 300, p99: 600, cpuPerAnswerUs: 1_234 },
				],
			},
			figures: [figure("last window of the first", 97 / 232, "42%", atLeast(0.9, "90%"), false), figure("paid orders", 3290, "3,290")],
		});
		expect(text).toMatch(/\| baseline: moleculer-web, before the shop \| +37,600 \|/);
		expect(text).toMatch(/\| baseline: moleculer-web, after the shop +\| +36,000 \|/);
		expect(text).toContain("\nRatios are to the faster reading of moleculer-web.\n");
		expect(text).toMatch(
			/\| GET \/api\/products\/:id +\| +24,600 \| +1 ms \| +2 ms \| +47 us \|.*\| 65% of moleculer-web +\| ≥ 85% of moleculer-web \| not met/,
		);
		expect(text).toMatch(/\| GET \/api\/users\/me +\| +20,000 \| +1 ms \| +2 ms \| +- \|/);
		expect(text).toMatch(/\| GET \/api\/users\/me .*\| 5 \(3×503, 2 without an answer\) \| 53% of moleculer-web .*\| met /);
		expect(text).toMatch(/\| 10-20 s +\| +97 \| 300 ms \| 600 ms \| +1234 us \|/);
		expect(text).toMatch(/\| 0-10 s +\| +232 \| 120 ms \| 240 ms \| +- +\|/);
		expect(text).toMatch(/\| last window of the first \| 42% +\| ≥ 90% +\| not measured \|/);
		expect(text).toContain("Targets: 1 met, 1 not met, 1 not measured by this run.");
	});
});
