/**
 * The day range of a report: `from` and `to` as YYYY-MM-DD (UTC days, both included),
 * by default the last 30 days up to today, at most 366 days long.
 */
import { InvalidInputError, type FieldProblem } from "../errors";

export const DEFAULT_RANGE_DAYS = 30;
export const MAX_RANGE_DAYS = 366;
export const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

const DAY_MS = 24 * 60 * 60 * 1000;

export type DayRange = { from: string; to: string; days: string[] };

/** Midnight UTC of a YYYY-MM-DD day, or undefined for text that is not a real day (2026-02-30). */
export function parseDay(day: string): number | undefined {
	if (!DAY_PATTERN.test(day)) return undefined;
	const time = Date.parse(`${day}T00:00:00.000Z`);
	if (Number.isNaN(time) || new Date(time).toISOString().slice(0, 10) !== day) return undefined;
	return time;
}

export function formatDay(time: number): string {
	return new Date(time).toISOString().slice(0, 10);
}

/** Every day from `from` to `to`, both included. */
export function daysBetween(fromTime: number, toTime: number): string[] {
	const days: string[] = [];
	for (let time = fromTime; time <= toTime; time += DAY_MS) days.push(formatDay(time));
	return days;
}

/** The range asked for, checked and spelled out day by day; 422 when it is not a valid range. */
export function dayRange(request: { from?: string; to?: string }, now: Date): DayRange {
	const problems: FieldProblem[] = [];
	const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
	const toTime = request.to === undefined ? today : parseDay(request.to);
	if (toTime === undefined) problems.push({ field: "to", message: "to must be a day as YYYY-MM-DD", type: "date" });
	const fromTime = request.from === undefined ? (toTime ?? today) - (DEFAULT_RANGE_DAYS - 1) * DAY_MS : parseDay(request.from);
	if (fromTime === undefined) problems.push({ field: "from", message: "from must be a day as YYYY-MM-DD", type: "date" });
	if (fromTime === undefined || toTime === undefined) throw new InvalidInputError("The date range is not valid", problems);

	if (toTime < fromTime) {
		throw new InvalidInputError("The date range ends before it starts", [{ field: "to", message: "to must not be before from", type: "dateMin" }]);
	}
	const length = Math.round((toTime - fromTime) / DAY_MS) + 1;
	if (length > MAX_RANGE_DAYS) {
		throw new InvalidInputError(`The date range is ${length} days long; at most ${MAX_RANGE_DAYS} are allowed`, [
			{ field: "to", message: `the range may span at most ${MAX_RANGE_DAYS} days`, type: "dateMax" },
		]);
	}
	return { from: formatDay(fromTime), to: formatDay(toTime), days: daysBetween(fromTime, toTime) };
}
