import { weakETag } from "../../src/gateway/etag";

/** moleculer-web's own ETag maker, for routes with `etag: true`. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { generateETag } = require("moleculer-web/src/utils") as { generateETag(body: string | Buffer, weak: true): string };

describe("the gateway's ETags", () => {
	it.each([
		["", "empty"],
		['{"id":"p1","name":"Mug","price":900}', "JSON"],
		["prix: 9,00 €", "non-ASCII"],
	])("are moleculer-web's weak ETags of a %s body (%s)", body => {
		expect(weakETag(body)).toBe(generateETag(body, true));
		expect(weakETag(Buffer.from(body))).toBe(generateETag(Buffer.from(body), true));
	});

	it("differ when the body does", () => {
		expect(weakETag('{"stock":1}')).not.toBe(weakETag('{"stock":2}'));
	});
});
