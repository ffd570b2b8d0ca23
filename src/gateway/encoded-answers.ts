/**
 * The JSON and the ETag of an answer, kept beside the answer object for as long as it lives.
 *
 * A cached answer (the in-process cacher keeps results as they are, without a copy) is the
 * same object on every hit until the cache lets it go, so its JSON is built and hashed once
 * instead of on every request; a page of products is some 10 kB of both. Other answers are
 * new objects each time and are encoded as before. It relies on what the cache relies on
 * already: an answer is never changed once it has been returned.
 *
 * moleculer-web asks for the body (`json`) and, right after it in the same call, for that
 * body's ETag (`etag`): the last body encoded is the one to tag.
 */
import { weakETag } from "./etag";

type Encoded = { json: string; etag?: string };

export class EncodedAnswers {
	private readonly encoded = new WeakMap<object, Encoded>();
	private last: Encoded | null = null;

	/** The answer's JSON. */
	json(data: unknown): string {
		if (typeof data !== "object" || data === null) {
			this.last = null;
			return JSON.stringify(data);
		}
		let entry = this.encoded.get(data);
		if (!entry) {
			entry = { json: JSON.stringify(data) };
			this.encoded.set(data, entry);
		}
		this.last = entry;
		return entry.json;
	}

	/** The weak ETag of a body (see src/gateway/etag.ts). */
	etag(body: string | Buffer): string {
		const last = this.last;
		if (last?.json !== body) return weakETag(body);
		last.etag ??= weakETag(body);
		return last.etag;
	}
}
