import { InvalidInputError } from "../../src/errors";
import { MAX_RANGE_DAYS, dayRange, parseDay } from "../../src/analytics/date-range";

const NOW = new Date("2026-03-10T22:15:00.000Z");

function problem(request: { from?: string; to?: string }): InvalidInputError {
	try {
		dayRange(request, NOW);
	} catch (err) {
		return err as InvalidInputError;
	}
	throw new Error("expected a 422");
}

it("defaults to the last 30 days, today included", () => {
	const range = dayRange({}, NOW);
	expect(range).toMatchObject({ from: "2026-02-09", to: "2026-03-10" });
	expect(range.days).toHaveLength(30);
	expect(range.days[0]).toBe("2026-02-09");
	expect(range.days[29]).toBe("2026-03-10");
});

it("spells out every day of the range, across month ends and leap days", () => {
	expect(dayRange({ from: "2028-02-27", to: "2028-03-01" }, NOW).days).toEqual(["2028-02-27", "2028-02-28", "2028-02-29", "2028-03-01"]);
	expect(dayRange({ from: "2026-03-10", to: "2026-03-10" }, NOW).days).toEqual(["2026-03-10"]);
});

it("ends a range given only its start today, and starts one given only its end 30 days earlier", () => {
	expect(dayRange({ from: "2026-03-01" }, NOW)).toMatchObject({ from: "2026-03-01", to: "2026-03-10" });
	expect(dayRange({ to: "2026-01-30" }, NOW)).toMatchObject({ from: "2026-01-01", to: "2026-01-30" });
});

it("allows 366 days and refuses 367 with a 422", () => {
	expect(dayRange({ from: "2024-01-01", to: "2024-12-31" }, NOW).days).toHaveLength(MAX_RANGE_DAYS);
	const err = problem({ from: "2024-01-01", to: "2025-01-01" });
	expect(err).toBeInstanceOf(InvalidInputError);
	expect(err.code).toBe(422);
	expect(err.data).toEqual([expect.objectContaining({ field: "to", type: "dateMax" })]);
});

it("refuses a range that ends before it starts", () => {
	const err = problem({ from: "2026-03-02", to: "2026-03-01" });
	expect(err.code).toBe(422);
	expect(err.data).toEqual([expect.objectContaining({ field: "to", type: "dateMin" })]);
	expect(problem({ from: "2026-03-11" }).code).toBe(422);
});

it("refuses days that do not exist", () => {
	expect(parseDay("2026-02-29")).toBeUndefined();
	expect(parseDay("2026-13-01")).toBeUndefined();
	expect(parseDay("2026-3-1")).toBeUndefined();
	expect(parseDay("2028-02-29")).toBe(Date.UTC(2028, 1, 29));
	expect(problem({ from: "2026-02-30", to: "2026-99-01" }).data).toEqual([
		expect.objectContaining({ field: "to" }),
		expect.objectContaining({ field: "from" }),
	]);
});
