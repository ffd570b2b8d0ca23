/**
 * Ids derived from a key that is unique anyway (an order's idempotency scope, a payment's
 * order): the entity is then found by `_id`, which every store looks up without a scan
 * (FerretDB scans a collection for any other field), and a second insert of the same key
 * fails on `_id` like on any unique index. 24 hex digits: a valid MongoDB ObjectId.
 */
import { createHash } from "node:crypto";

export function idFromKey(key: string): string {
	return createHash("sha256").update(key).digest("hex").slice(0, 24);
}
