/** Formatting of the figures and the tables the benchmark prints. Plain functions, unit tested. */

const MB = 1024 * 1024;

/** A count or a rate, rounded, with thousands separators: 24,600. */
export function count(value: number): string {
	return Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "-";
}

/** A fraction as a percentage: 0.654 -> "65%", below 10% with one decimal: "0.6%". */
export function percent(fraction: number): string {
	if (!Number.isFinite(fraction)) return "-";
	const value = fraction * 100;
	return `${value < 10 ? value.toFixed(1) : Math.round(value)}%`;
}

/** Milliseconds as the load generator measures them (whole ms). */
export function ms(value: number): string {
	return Number.isFinite(value) ? `${Math.round(value)} ms` : "-";
}

/** Microseconds, rounded: "52 us". */
export function micros(value: number): string {
	return Number.isFinite(value) ? `${Math.round(value)} us` : "-";
}

/** Seconds with one decimal. */
export function seconds(value: number): string {
	return Number.isFinite(value) ? `${value.toFixed(1)} s` : "-";
}

/** A size in bytes, in B, KB or MB (1024-based). */
export function bytes(value: number): string {
	if (!Number.isFinite(value)) return "-";
	if (value < 1024) return `${Math.round(value)} B`;
	if (value < MB) return `${(value / 1024).toFixed(1)} KB`;
	return `${(value / MB).toFixed(value < 10 * MB ? 1 : 0)} MB`;
}

/**
 * A Markdown table with padded columns: readable in a terminal and pasted as it is into
 * the README. Columns named in `right` are right-aligned.
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[], right: readonly string[] = []): string {
	const widths = header.map((title, i) => Math.max(title.length, 3, ...rows.map(row => (row[i] ?? "").length)));
	const isRight = header.map(title => right.includes(title));
	const line = (cells: readonly string[]) => `| ${cells.map((cell, i) => (isRight[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join(" | ")} |`;
	const rule = `|${widths.map((w, i) => (isRight[i] ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
	return [line(header), rule, ...rows.map(row => line(header.map((_, i) => row[i] ?? "")))].join("\n");
}
