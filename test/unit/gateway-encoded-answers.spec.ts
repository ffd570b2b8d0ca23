import { weakETag } from "../../src/gateway/etag";
import { EncodedAnswers } from "../../src/gateway/encoded-answers";

describe("the gateway's encoded answers", () => {
	it("give an answer its JSON and its weak ETag", () => {
		const answers = new EncodedAnswers();
		const page = { rows: [{ id: "p1", name: "Mug", price: 900 }], total: 1 };
		const json = answers.json(page);
		expect(json).toBe(JSON.stringify(page));
		expect(answers.etag(json)).toBe(weakETag(json));
	});

	it("encode a cached answer once: the same object gives the same body and ETag without building them again", () => {
		const answers = new EncodedAnswers();
		const cached = { id: "p1", stock: 3 };
		const first = answers.json(cached);
		const firstTag = answers.etag(first);
		const stringify = jest.spyOn(JSON, "stringify");
		expect(answers.json(cached)).toBe(first);
		expect(answers.etag(first)).toBe(firstTag);
		expect(stringify).not.toHaveBeenCalled();
		stringify.mockRestore();
	});

	it("encode every new answer object anew, so a changed answer is never served from an old body", () => {
		const answers = new EncodedAnswers();
		const before = answers.json({ id: "p1", stock: 3 });
		const beforeTag = answers.etag(before);
		const after = answers.json({ id: "p1", stock: 2 });
		expect(after).toBe('{"id":"p1","stock":2}');
		expect(answers.etag(after)).toBe(weakETag(after));
		expect(answers.etag(after)).not.toBe(beforeTag);
	});

	it("tag a body it did not encode last (a plain value, a buffer) from the body itself", () => {
		const answers = new EncodedAnswers();
		answers.json({ id: "p1" });
		expect(answers.json("ok")).toBe('"ok"');
		expect(answers.etag('"ok"')).toBe(weakETag('"ok"'));
		expect(answers.etag(Buffer.from("raw"))).toBe(weakETag("raw"));
		expect(answers.etag("another body")).toBe(weakETag("another body"));
	});
});
