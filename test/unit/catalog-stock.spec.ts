import { adjustUpdate, holdOutcome, lowStockRecovered, lowStockReport, releaseUpdate, reserveUpdate, settleUpdate } from "../../src/catalog/stock";

const lacks = (field: string, value: string) => ({ [field]: { $ne: value } });

it("reserves for an order only from an active product that has enough and that the order holds nothing of, in the same write", () => {
	expect(reserveUpdate("p1", 3, "o1", lacks)).toEqual({
		query: { _id: "p1", active: true, stock: { $gte: 3 }, holds: { $ne: "o1" } },
		update: { $inc: { stock: -3 }, $push: { holds: "o1" } },
	});
});

it("releases what the order holds, whether or not the product is still sold, and ends the hold", () => {
	expect(releaseUpdate("p1", 3, "o1")).toEqual({ query: { _id: "p1", holds: "o1" }, update: { $inc: { stock: 3 }, $pull: { holds: "o1" } } });
});

it("settles a delivered order's hold without touching the stock", () => {
	expect(settleUpdate("p1", "o1")).toEqual({ query: { _id: "p1", holds: "o1" }, update: { $pull: { holds: "o1" } } });
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

it("reports low stock once: only below the threshold, only at the stock it saw, and again once the stock recovered", () => {
	expect(lowStockReport({ _id: "p", stock: 5 }, 5)).toBeNull();
	expect(lowStockReport({ _id: "p", stock: 4 }, 5)).toEqual({
		query: { _id: "p", stock: 4, lowStockReported: { $ne: true } },
		update: { $set: { lowStockReported: true } },
	});
	expect(lowStockRecovered("p", 5)).toEqual({ query: { _id: "p", stock: { $gte: 5 }, lowStockReported: true }, update: { $set: { lowStockReported: false } } });
});

it("lets go of a hold by its order's status: given back when the order was given up, kept sold when delivered, else left alone", () => {
	expect(holdOutcome("cancelled")).toBe("release");
	expect(holdOutcome("payment_failed")).toBe("release");
	expect(holdOutcome("delivered")).toBe("settle");
	for (const status of ["pending", "paid", "cancelling", "shipped", undefined]) expect(holdOutcome(status)).toBe("keep");
});
