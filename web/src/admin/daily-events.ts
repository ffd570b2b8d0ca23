/**
 * Events of one type per day, counted from the analytics event log (newest first): the
 * API's per-day report covers sales only. The log keeps ANALYTICS_RETENTION_DAYS of events;
 * at most MAX_PAGES pages are read, and the result says when that cut the range short.
 */
import { useEffect, useState } from "preact/hooks";
import { api, query, type Page } from "../api";

type LoggedEvent = { eventId: string; type: string; at: string };

const PAGE_SIZE = 100;
const MAX_PAGES = 5;
export const MAX_EVENTS = PAGE_SIZE * MAX_PAGES;

export type DailyCounts = { counts: Map<string, number>; complete: boolean };

async function countDaily(type: string, from: string, to: string): Promise<DailyCounts> {
	const counts = new Map<string, number>();
	for (let page = 1; page <= MAX_PAGES; page++) {
		const events = await api.get<Page<LoggedEvent>>(`/api/analytics/events${query({ type, page, pageSize: PAGE_SIZE })}`, true);
		for (const event of events.rows) {
			const day = event.at.slice(0, 10);
			if (day >= from && day <= to) counts.set(day, (counts.get(day) ?? 0) + 1);
		}
		const oldest = events.rows.at(-1)?.at.slice(0, 10);
		if (page >= events.totalPages || (oldest !== undefined && oldest < from)) return { counts, complete: true };
	}
	return { counts, complete: false };
}

/** The counts per day of `type` from `from` to `to`, read again every `everyMs`. */
export function useDailyCounts(type: string, from: string, to: string, everyMs: number): DailyCounts | undefined {
	const [result, setResult] = useState<DailyCounts | undefined>(undefined);
	useEffect(() => {
		let stopped = false;
		let timer: ReturnType<typeof setTimeout> | undefined;
		const load = async () => {
			if (!document.hidden) {
				try {
					const counts = await countDaily(type, from, to);
					if (!stopped) setResult(counts);
				} catch {
					// The figures stay as they were; the sales chart above shows the API's error.
				}
			}
			if (!stopped) timer = setTimeout(load, everyMs);
		};
		void load();
		return () => {
			stopped = true;
			if (timer) clearTimeout(timer);
		};
	}, [type, from, to, everyMs]);
	return result;
}
