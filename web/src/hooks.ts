/** Data hooks: load once, or keep a view live by polling with ETag revalidation. */
import { useCallback, useEffect, useState } from "preact/hooks";
import { api, ApiError } from "./api";

/** The last answer (kept while a new one loads), the last error, and a way to ask again now. */
export type Loaded<T> = { data: T | undefined; error: ApiError | Error | undefined; reload: () => void };

/**
 * GETs `path` (none while it is null), again every `everyMs` when given, while the page is
 * visible. Each poll asks with If-None-Match, so an unchanged answer costs a 304.
 */
export function useApi<T>(path: string | null, everyMs?: number): Loaded<T> {
	const [data, setData] = useState<T | undefined>(undefined);
	const [error, setError] = useState<ApiError | Error | undefined>(undefined);
	const [tick, setTick] = useState(0);
	const reload = useCallback(() => setTick(n => n + 1), []);

	useEffect(() => {
		if (path === null) {
			setData(undefined);
			return;
		}
		let stopped = false;
		let timer: ReturnType<typeof setTimeout> | undefined;
		const load = async () => {
			if (everyMs && document.hidden) {
				timer = setTimeout(load, everyMs);
				return;
			}
			try {
				const body = await api.get<T>(path, everyMs !== undefined);
				if (!stopped) {
					setData(body);
					setError(undefined);
				}
			} catch (err) {
				if (!stopped) setError(err as Error);
			}
			if (!stopped && everyMs) timer = setTimeout(load, everyMs);
		};
		void load();
		return () => {
			stopped = true;
			if (timer) clearTimeout(timer);
		};
	}, [path, everyMs, tick]);

	return { data, error, reload };
}

/** `value` once it has stopped changing for `ms`: a search box asks once per pause, not per key. */
export function useDebounced<T>(value: T, ms: number): T {
	const [settled, setSettled] = useState(value);
	useEffect(() => {
		const timer = setTimeout(() => setSettled(value), ms);
		return () => clearTimeout(timer);
	}, [value, ms]);
	return settled;
}
