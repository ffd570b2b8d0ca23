import { adjustUpdate, isLowStock, releaseUpdate, reserveUpdate } from "../../src/catalog/stock";

it("reserves only from an active product that has enough, in the same write", () => {
	expect(reserveUpdate("p1", 3)).toEqual({
		query: { _id: "p1", active: true, stock: { $gte: 3 } },
		update: { $inc: { stock: -3 } },
	});
});

it("releases to the product whether or not it is still sold", () => {
	expect(releaseUpdate("p1", 3)).toEqual({ query: { _id: "p1" }, update: { $inc: { stock: 3 } } });
});

it("adjusts down only when the stock covers the decrease, and stamps updatedAt", () => {
	const now = new Date("2026-03-04T05:06:07.000Z");
	expect(adjustUpdate("p1", -4, now)).toEqual({
		query: { _id: "p1", stock: { $gte: 4 } },
		update: { $inc: { stock: -4 }, $set: { updatedAt: "2026-03-04T05:06:07.000Z" } },
	});
	// An increase is always possible: stock is never negative, so stock >= -delta holds.
	expect(adjustUpdate("p1", 10, now).query).toEqual({ _id: "p1", stock: { $gte: -10 } });
});

it("calls stock low below the threshold, not at it", () => {
	expect(isLowStock(4, 5)).toBe(true);
	expect(isLowStock(5, 5)).toBe(false);
	expect(isLowStock(0, 0)).toBe(false);
});
