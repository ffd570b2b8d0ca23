import { ownerOf, ResponseCache, type CachedResponse } from "../../src/gateway/response-cache";

/** The gateway's whole answers of reads: kept by URL (and owner), gone with the action answer they came from. */
describe("the gateway's response cache", () => {
	let now: number;
	let cache: ResponseCache;

	const answer = (cacheKey: string, json = `{"key":"${cacheKey}"}`): CachedResponse => ({ json, etag: `W/"${json.length}"`, cacheKey });
	const keep = (url: string, cacheKey: string) => cache.set(url, "everyone", answer(cacheKey), cache.begin());
	const kept = (...urls: string[]) => urls.filter(url => cache.get(url, null) !== undefined);

	beforeEach(() => {
		now = 1_000_000;
		cache = new ResponseCache({ maxEntries: 3, maxBytes: 1_000, ttlMs: 5_000, now: () => now });
	});

	it("answers a URL it kept with the same body and ETag", () => {
		keep("/api/products/p1", 'catalog.get:"p1"');
		expect(cache.get("/api/products/p1", null)).toEqual(answer('catalog.get:"p1"'));
		expect(cache.get("/api/products/p2", null)).toBeUndefined();
	});

	it("drops the answers of a cleaned key, and only those", () => {
		keep("/api/products/p1", 'catalog.get:"p1"');
		keep("/api/products/p1?x=1", 'catalog.get:"p1"');
		keep("/api/products/p2", 'catalog.get:"p2"');
		cache.clean(['catalog.get:"p1"']);
		expect(kept("/api/products/p1", "/api/products/p1?x=1", "/api/products/p2")).toEqual(["/api/products/p2"]);
	});

	it("drops every answer of the actions a pattern names", () => {
		keep("/api/products/p1", 'catalog.get:"p1"');
		keep("/api/products?page=1", "catalog.list:1");
		keep("/api/products?page=2", "catalog.list:2");
		cache.clean(["catalog.list**"]);
		expect(kept("/api/products/p1", "/api/products?page=1", "/api/products?page=2")).toEqual(["/api/products/p1"]);

		keep("/api/products?page=1", "catalog.list:1");
		cache.clean(["catalog.**"]);
		expect(kept("/api/products/p1", "/api/products?page=1")).toEqual([]);
	});

	it("reads a pattern of keys within one action as the cacher does", () => {
		keep("/api/products/p1", 'catalog.get:"p1"');
		keep("/api/products/p2", 'catalog.get:"p2"');
		cache.clean(['catalog.get:"p1*']);
		expect(kept("/api/products/p1", "/api/products/p2")).toEqual(["/api/products/p2"]);
	});

	it("does not keep an answer whose call began before a clean", () => {
		const since = cache.begin();
		cache.clean(["users.**"]);
		cache.set("/api/products/p1", "everyone", answer('catalog.get:"p1"'), since);
		expect(cache.get("/api/products/p1", null)).toBeUndefined();
	});

	it("keeps an answer no longer than its TTL, and no more answers than its bound", () => {
		keep("/api/products/p1", 'catalog.get:"p1"');
		now += 5_001;
		expect(cache.get("/api/products/p1", null)).toBeUndefined();

		for (const id of ["a", "b", "c", "d"]) keep(`/api/products/${id}`, `catalog.get:"${id}"`);
		expect(cache.size).toBe(3);
		expect(kept("/api/products/a")).toEqual([]);
		// A URL pushed out is out of the indexes too: cleaning its key later finds nothing to drop.
		cache.clean(['catalog.get:"a"']);
		expect(kept("/api/products/b", "/api/products/c", "/api/products/d")).toHaveLength(3);
	});

	it("keeps no more JSON than its bound in bytes", () => {
		cache.set("/api/products?page=1", "everyone", answer("catalog.list:1", "x".repeat(600)), cache.begin());
		cache.set("/api/products?page=2", "everyone", answer("catalog.list:2", "y".repeat(600)), cache.begin());
		expect(kept("/api/products?page=1", "/api/products?page=2")).toEqual(["/api/products?page=2"]);
		// One answer larger than the whole bound is not kept at all.
		cache.set("/api/products?page=3", "everyone", answer("catalog.list:3", "z".repeat(1_001)), cache.begin());
		expect(cache.get("/api/products?page=3", null)).toBeUndefined();
		cache.clean(["catalog.list:3"]);
		expect(kept("/api/products?page=2")).toEqual(["/api/products?page=2"]);
	});

	it("keeps an answer no longer than its action's own TTL when that is shorter", () => {
		cache.set("/api/products/p1", "everyone", answer('catalog.get:"p1"'), cache.begin(), 1_000);
		now += 1_001;
		expect(cache.get("/api/products/p1", null)).toBeUndefined();
	});

	it("empties at once on clear (a reconnect may have missed cleans)", () => {
		keep("/api/products/p1", 'catalog.get:"p1"');
		const since = cache.begin();
		cache.clear();
		expect(cache.get("/api/products/p1", null)).toBeUndefined();
		cache.set("/api/products/p1", "everyone", answer('catalog.get:"p1"'), since);
		expect(cache.get("/api/products/p1", null)).toBeUndefined();
	});

	describe("answers that are one user's own, or for some callers only", () => {
		const ann = { id: "ann", role: "customer" };
		const bob = { id: "bob", role: "customer" };
		const admin = { id: "root", role: "admin" };

		it("gives a user's own answer to that user only, and cleans it with its key", () => {
			cache.set("/api/users/me", { user: "ann" }, { ...answer('users.me:"ann"'), auth: "required" }, cache.begin());
			cache.set("/api/users/me", { user: "bob" }, { ...answer('users.me:"bob"'), auth: "required" }, cache.begin());
			expect(cache.get("/api/users/me", ann)?.cacheKey).toBe('users.me:"ann"');
			expect(cache.get("/api/users/me", bob)?.cacheKey).toBe('users.me:"bob"');
			expect(cache.get("/api/users/me", admin)).toBeUndefined();
			expect(cache.get("/api/users/me", null)).toBeUndefined();
			cache.clean(["users.**"]);
			expect(cache.get("/api/users/me", ann)).toBeUndefined();
		});

		it("gives an answer that needs a signed-in user or an admin only to such a caller", () => {
			cache.set("/api/users/u1", "everyone", { ...answer('users.get:"u1"'), auth: "admin" }, cache.begin());
			expect(cache.get("/api/users/u1", admin)).toBeDefined();
			expect(cache.get("/api/users/u1", ann)).toBeUndefined();
			expect(cache.get("/api/users/u1", null)).toBeUndefined();
			cache.set("/api/news", "everyone", { ...answer("news.list:1"), auth: "required" }, cache.begin());
			expect(cache.get("/api/news", ann)).toBeDefined();
			expect(cache.get("/api/news", null)).toBeUndefined();
		});

		it("gives everyone's answer to any caller", () => {
			keep("/api/products/p1", 'catalog.get:"p1"');
			expect([null, ann, admin].map(caller => cache.get("/api/products/p1", caller)?.cacheKey)).toEqual(Array(3).fill('catalog.get:"p1"'));
		});

		it("reads whose an answer is from the action's cache keys", () => {
			expect(ownerOf(["id"], ann)).toBe("everyone");
			expect(ownerOf(undefined, null)).toBe("everyone");
			expect(ownerOf(["#user.id"], ann)).toEqual({ user: "ann" });
			expect(ownerOf(["page", "#user.id"], admin)).toEqual({ user: "root" });
			// A caller's own answer with nobody signed in, or keys that name other meta: not kept.
			expect(ownerOf(["#user.id"], null)).toBeNull();
			expect(ownerOf(["#headers.accept", "#user.id"], ann)).toBeNull();
			expect(ownerOf(["id", "@accept-language"], null)).toBeNull();
			expect(ownerOf(["@accept-language", "#user.id"], ann)).toBeNull();
		});
	});
});
