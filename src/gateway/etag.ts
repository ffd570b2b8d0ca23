/**
 * The gateway's ETags: weak, and the same as moleculer-web's `etag: true` makes them (the
 * `etag` package: the body's length and SHA-1), computed with Node's one-shot hash, which
 * does not build a Hash object for every answer.
 */
import { hash } from "node:crypto";

export function weakETag(body: string | Buffer): string {
	const length = typeof body === "string" ? Buffer.byteLength(body) : body.length;
	return `W/"${length.toString(16)}-${hash("sha1", body, "base64").slice(0, 27)}"`;
}
