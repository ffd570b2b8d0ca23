/** Page parameters and the shape of a page, the same for every list action. */

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** `params` rules for list actions; query strings arrive as text, hence `convert`. */
export const pageParams = {
	page: { type: "number", integer: true, min: 1, max: 1_000_000, optional: true, convert: true },
	pageSize: { type: "number", integer: true, min: 1, max: MAX_PAGE_SIZE, optional: true, convert: true },
} as const;

export type PageRequest = { page?: number; pageSize?: number };

export type Page<T> = { rows: T[]; total: number; page: number; pageSize: number; totalPages: number };

export function pageWindow(request: PageRequest): { page: number; pageSize: number; offset: number } {
	const page = request.page ?? 1;
	const pageSize = request.pageSize ?? DEFAULT_PAGE_SIZE;
	return { page, pageSize, offset: (page - 1) * pageSize };
}

/** The same page with each row turned into `view(row)`. */
export function mapPage<T, V>(page: Page<T>, view: (row: T) => V): Page<V> {
	return { ...page, rows: page.rows.map(view) };
}

export function toPage<T>(rows: T[], total: number, request: PageRequest): Page<T> {
	const { page, pageSize } = pageWindow(request);
	return { rows, total, page, pageSize, totalPages: Math.ceil(total / pageSize) };
}
