import { DEFAULT_SORT, SORT_OPTIONS, browseQuery, containsPattern, escapeRegExp, sortFields } from "../../src/catalog/browse";

describe("search text", () => {
	it("escapes every RegExp special character so the text matches only itself", () => {
		const specials = ".*+?^${}()|[]\\";
		expect(escapeRegExp(specials)).toBe("\\.\\*\\+\\?\\^\\$\\{\\}\\(\\)\\|\\[\\]\\\\");
		expect(new RegExp(`^${escapeRegExp(specials)}$`).test(specials)).toBe(true);
	});

	it("matches a substring in any case, and regex syntax in the text literally", () => {
		expect(containsPattern("KEYboard").test("Mechanical keyboard, tenkeyless")).toBe(true);
		expect(containsPattern("c++ (2nd ed.)").test("Learning C++ (2nd ed.) paperback")).toBe(true);
		expect(containsPattern("c++").test("cc")).toBe(false);
		expect(containsPattern("a.c").test("abc")).toBe(false);
		expect(containsPattern(".*").test("anything")).toBe(false);
	});

	it("is never catastrophic: a pathological pattern is just text", () => {
		const started = Date.now();
		expect(containsPattern("(a+)+$").test(`${"a".repeat(50)}!`)).toBe(false);
		expect(Date.now() - started).toBeLessThan(100);
	});
});

describe("browse query", () => {
	it("shows only active products by default", () => {
		expect(browseQuery({})).toEqual({ active: true });
	});

	it("filters by the exact category, trimmed", () => {
		expect(browseQuery({ category: " books " })).toEqual({ active: true, category: "books" });
	});

	it("searches name or description with one case-insensitive pattern, no $text", () => {
		const query = browseQuery({ search: "  lamp? ", category: "home" });
		expect(query).toMatchObject({ active: true, category: "home" });
		const alternatives = query.$or as { [field: string]: { $regex: RegExp } }[];
		expect(alternatives.map(a => Object.keys(a)[0])).toEqual(["name", "description"]);
		for (const alternative of alternatives) {
			const pattern = Object.values(alternative)[0].$regex;
			expect(pattern.source).toBe("lamp\\?");
			expect(pattern.flags).toBe("i");
		}
		expect(JSON.stringify(query)).not.toContain("$text");
	});

	it("ignores an empty or blank search and category", () => {
		expect(browseQuery({ search: "   ", category: "" })).toEqual({ active: true });
	});
});

describe("sort", () => {
	it("defaults to name, with the id as tie-breaker", () => {
		expect(DEFAULT_SORT).toBe("name");
		expect(sortFields()).toEqual(["name", "_id"]);
		expect(sortFields("-name")).toEqual(["-name", "_id"]);
	});

	it("breaks ties of price and date by name then id, keeping the direction of the option", () => {
		expect(sortFields("price")).toEqual(["price", "name", "_id"]);
		expect(sortFields("-price")).toEqual(["-price", "name", "_id"]);
		expect(sortFields("-createdAt")).toEqual(["-createdAt", "name", "_id"]);
	});

	it("offers exactly the documented options", () => {
		expect([...SORT_OPTIONS]).toEqual(["name", "-name", "price", "-price", "createdAt", "-createdAt"]);
	});
});
