/**
 * A small JSON client for the gateway, as a shop's front end would call it. Every answer
 * is checked against the gateway's OpenAPI document (./contract.ts).
 */
import { checkAgainstContract } from "./contract";

export type Reply<T = any> = { status: number; body: T; headers: Headers };

export type RequestOptions = { token?: string; headers?: Record<string, string>; rawBody?: string };

export async function request<T = any>(baseUrl: string, method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<Reply<T>> {
	const headers: Record<string, string> = { ...options.headers };
	if (options.token) headers.authorization = `Bearer ${options.token}`;
	let payload: string | undefined = options.rawBody;
	if (body !== undefined) {
		headers["content-type"] = "application/json";
		payload = JSON.stringify(body);
	} else if (payload !== undefined) {
		headers["content-type"] ??= "application/json";
	}
	const res = await fetch(`${baseUrl}${path}`, { method, headers, body: payload });
	const text = await res.text();
	let parsed: unknown = text;
	let isJson = false;
	try {
		parsed = text ? JSON.parse(text) : undefined;
		isJson = text !== "";
	} catch {
		// not JSON: the test sees the text
	}
	await checkAgainstContract(baseUrl, method, path, res.status, parsed, isJson);
	return { status: res.status, body: parsed as T, headers: res.headers };
}

/** Binds `request` to one gateway. */
export function client(baseUrl: string) {
	return {
		get: <T = any>(path: string, options?: RequestOptions) => request<T>(baseUrl, "GET", path, undefined, options),
		post: <T = any>(path: string, body?: unknown, options?: RequestOptions) => request<T>(baseUrl, "POST", path, body, options),
		patch: <T = any>(path: string, body?: unknown, options?: RequestOptions) => request<T>(baseUrl, "PATCH", path, body, options),
		delete: <T = any>(path: string, options?: RequestOptions) => request<T>(baseUrl, "DELETE", path, undefined, options),
	};
}

export type Client = ReturnType<typeof client>;

let emailSeq = 0;

/** Registers a new customer and returns its token and user. */
export async function newCustomer(api: Client, name = "Customer"): Promise<{ token: string; user: { id: string; email: string }; password: string }> {
	emailSeq += 1;
	const password = "correct-horse-1";
	const email = `customer${emailSeq}-${Date.now()}@shop.test`;
	const res = await api.post("/api/auth/register", { email, password, name });
	if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
	return { token: res.body.token, user: res.body.user, password };
}

export async function adminToken(api: Client): Promise<string> {
	const res = await api.post("/api/auth/login", { email: process.env.ADMIN_EMAIL, password: process.env.ADMIN_PASSWORD });
	if (res.status !== 200) throw new Error(`admin login failed: ${res.status} ${JSON.stringify(res.body)}`);
	return res.body.token;
}
