/** Hash routes (#/orders, #/product/<id>): deep links work with a static file server. */
import { useEffect, useState } from "preact/hooks";

function currentPath(): string {
	return location.hash.replace(/^#/, "") || "/";
}

export function useRoute(): string {
	const [path, setPath] = useState(currentPath);
	useEffect(() => {
		const onChange = () => setPath(currentPath());
		window.addEventListener("hashchange", onChange);
		return () => window.removeEventListener("hashchange", onChange);
	}, []);
	return path;
}

export function navigate(path: string): void {
	location.hash = path;
}

/** The parameters of `pattern` ("/product/:id") in `path`, or null when it does not match. */
export function match(pattern: string, path: string): Record<string, string> | null {
	const want = pattern.split("/");
	const [pathname] = path.split("?");
	const got = pathname.split("/");
	if (want.length !== got.length) return null;
	const params: Record<string, string> = {};
	for (let i = 0; i < want.length; i++) {
		if (want[i].startsWith(":")) params[want[i].slice(1)] = decodeURIComponent(got[i]);
		else if (want[i] !== got[i]) return null;
	}
	return params;
}
