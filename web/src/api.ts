/**
 * The console's client for the shop's REST API (/api). Errors keep the API's status,
 * type and validation problems, so that forms show the API's own messages.
 */

/** A validation problem as the API lists it in `data`. */
export type FieldProblem = { field: string; message: string; type?: string };

export class ApiError extends Error {
	constructor(
		readonly status: number,
		message: string,
		readonly type: string | undefined,
		readonly problems: FieldProblem[],
		readonly body: unknown,
	) {
		super(message);
	}

	/** The first message for a field (by its full path, e.g. `payment.card.number`), if any. */
	forField(field: string): string | undefined {
		return this.problems.find(p => p.field === field)?.message;
	}
}

export type Page<T> = { rows: T[]; total: number; page: number; pageSize: number; totalPages: number };

let token: string | null = null;

/** The last answer to each polled path, with its ETag: a 304 means "still this". */
const lastSeen = new Map<string, { etag: string; body: unknown }>();

export function setToken(value: string | null): void {
	token = value;
	lastSeen.clear();
}

type Options = { body?: unknown; headers?: Record<string, string>; revalidate?: boolean };

/** A successful reply: its body and status (201, 202 and 200 mean different things to some views). */
export type Reply<T> = { status: number; body: T };

export async function call<T>(method: string, path: string, options: Options = {}): Promise<Reply<T>> {
	const headers: Record<string, string> = { accept: "application/json", ...options.headers };
	if (token) headers.authorization = `Bearer ${token}`;
	if (options.body !== undefined) headers["content-type"] = "application/json";
	// Polls send the ETag of the last answer: the gateway says 304 while nothing changed.
	// (max-age=0 instead of the no-cache a browser would add, which asks for the full answer.)
	const known = options.revalidate ? lastSeen.get(path) : undefined;
	if (known) {
		headers["if-none-match"] = known.etag;
		headers["cache-control"] = "max-age=0";
	}
	const res = await fetch(path, {
		method,
		headers,
		body: options.body === undefined ? undefined : JSON.stringify(options.body),
		cache: "no-store",
	});
	if (known && res.status === 304) return { status: 304, body: known.body as T };
	const text = await res.text();
	let body: unknown = undefined;
	try {
		body = text ? JSON.parse(text) : undefined;
	} catch {
		body = text;
	}
	if (!res.ok) {
		const err = (body ?? {}) as { message?: string; type?: string; data?: unknown };
		const problems = Array.isArray(err.data) ? (err.data as FieldProblem[]).filter(p => p && typeof p.field === "string") : [];
		throw new ApiError(res.status, err.message ?? `${res.status} ${res.statusText}`, err.type, problems, body);
	}
	const etag = res.headers.get("etag");
	if (options.revalidate && etag) lastSeen.set(path, { etag, body });
	return { status: res.status, body: body as T };
}

export const api = {
	get: async <T>(path: string, revalidate = false) => (await call<T>("GET", path, { revalidate })).body,
	post: <T>(path: string, body?: unknown, headers?: Record<string, string>) => call<T>("POST", path, { body: body ?? {}, headers }),
	patch: <T>(path: string, body: unknown) => call<T>("PATCH", path, { body }),
	delete: <T>(path: string) => call<T>("DELETE", path),
};

/** A query string from the given values, leaving out empty ones. */
export function query(values: Record<string, string | number | undefined>): string {
	const params = new URLSearchParams();
	for (const [key, value] of Object.entries(values)) if (value !== undefined && value !== "") params.set(key, String(value));
	const text = params.toString();
	return text ? `?${text}` : "";
}

// The shapes the console reads (see the README's HTTP API table).

export type User = { id: string; email: string; name: string; role: "customer" | "admin" };
export type Product = { id: string; name: string; description: string; price: number; currency: string; category: string; stock: number; active: boolean };
export type OrderItem = { productId: string; name: string; unitPrice: number; quantity: number; lineTotal: number };
export type Order = {
	id: string;
	userId: string;
	status: string;
	items: OrderItem[];
	total: number;
	currency: string;
	paymentId: string | null;
	reason: string | null;
	createdAt: string;
	updatedAt: string;
};
export type Notification = { id: string; kind: string; title: string; body: string; read: boolean; createdAt: string };
export type Inbox = Page<Notification> & { unread: number };
