import type { BusinessEvent } from "../../src/events";
import { dayOf, newRollup, rollupChanges, rollupUpdate, sumChanges } from "../../src/analytics/rollups";
import { MalformedEventError } from "../../src/errors";

const AT = "2026-11-25T23:59:59.000Z";

function event(type: string, data: Record<string, unknown>, at = AT): BusinessEvent {
	return { id: `e-${type}`, type, at, data };
}

const paid = event("order.paid", {
	orderId: "o1",
	userId: "u1",
	status: "paid",
	total: 3500,
	currency: "USD",
	items: [
		{ productId: "p1", name: "Mug", unitPrice: 1000, quantity: 2, lineTotal: 2000 },
		{ productId: "p2", name: "Tea", unitPrice: 500, quantity: 1, lineTotal: 500 },
		{ productId: "p1", name: "Mug", unitPrice: 1000, quantity: 1, lineTotal: 1000 },
	],
});

it("takes the UTC day of the event's time", () => {
	expect(dayOf(AT)).toBe("2026-11-25");
	expect(dayOf("2026-11-25T23:30:00-02:00")).toBe("2026-11-26");
	expect(dayOf("yesterday")).toBeUndefined();
	expect(dayOf("+010000-01-01T00:00:00.000Z")).toBeUndefined();
	expect(dayOf(undefined)).toBeUndefined();
});

it("counts a paid order as one sale of its total and the units and revenue of each product, lines of a product added up", () => {
	expect(rollupChanges(paid)).toEqual([
		{ key: "events:2026-11-25", inc: { count: 1 }, init: { metric: "events", date: "2026-11-25" } },
		{ key: "sales:2026-11-25:USD", inc: { count: 1, amount: 3500 }, init: { metric: "sales", date: "2026-11-25", currency: "USD" } },
		{ key: "product:p1:USD", inc: { count: 3, amount: 3000 }, init: { metric: "product", productId: "p1", currency: "USD" }, set: { name: "Mug" } },
		{ key: "product:p2:USD", inc: { count: 1, amount: 500 }, init: { metric: "product", productId: "p2", currency: "USD" }, set: { name: "Tea" } },
	]);
});

it.each([
	["user.registered", { userId: "u1", email: "a@b.c", name: "A" }, { key: "signups:2026-11-25", inc: { count: 1 } }],
	[
		"payment.failed",
		{ paymentId: "pay1", orderId: "o1", userId: "u1", amount: 900, currency: "USD", reason: "card_declined" },
		{ key: "failures:2026-11-25", inc: { count: 1 } },
	],
	[
		"payment.refunded",
		{ paymentId: "pay1", orderId: "o1", userId: "u1", amount: 900, currency: "EUR" },
		{ key: "refunds:2026-11-25:EUR", inc: { count: 1, amount: 900 } },
	],
	["order.cancelled", { orderId: "o1", status: "cancelled", total: 900, currency: "USD", items: [] }, { key: "cancellations:2026-11-25", inc: { count: 1 } }],
])("counts %s in its day rollup", (type, data, expected) => {
	const changes = rollupChanges(event(type, data));
	expect(changes.map(change => change.key)).toEqual(["events:2026-11-25", expected.key]);
	expect(changes[1]).toMatchObject(expected);
});

it("only logs the events no report counts", () => {
	for (const type of ["order.created", "order.shipped", "payment.succeeded", "product.updated", "inventory.low", "promotion.created"]) {
		expect(rollupChanges(event(type, {})).map(change => change.key)).toEqual(["events:2026-11-25"]);
	}
});

it("refuses, before anything is written, an event whose numbers cannot be counted", () => {
	expect(() => rollupChanges(event("order.paid", { ...paid.data, total: 12.5 }))).toThrow(MalformedEventError);
	expect(() => rollupChanges(event("order.paid", { ...paid.data, currency: undefined }))).toThrow(/currency/);
	expect(() => rollupChanges(event("order.paid", { ...paid.data, items: [{ productId: "p1", quantity: -1, lineTotal: 0 }] }))).toThrow(/quantity/);
	expect(() => rollupChanges(event("payment.refunded", { amount: "9", currency: "USD" }))).toThrow(/amount/);
	expect(() => rollupChanges(event("user.registered", {}, "not a time"))).toThrow(/at is not a timestamp/);
});

it("leaves out counters that would not change", () => {
	const free = event("order.paid", { ...paid.data, total: 0, items: [{ productId: "p9", name: "Sample", quantity: 1, lineTotal: 0 }] });
	const [, sale, product] = rollupChanges(free);
	expect(sale.inc).toEqual({ count: 1 });
	expect(product.inc).toEqual({ count: 1 });
});

it("turns a change into an atomic $inc of the rollup, or the rollup to create", () => {
	const [, , mug] = rollupChanges(paid);
	expect(rollupUpdate(mug)).toEqual({ query: { _id: "product:p1:USD" }, update: { $inc: { count: 3, amount: 3000 }, $set: { name: "Mug" } } });
	expect(newRollup(mug)).toEqual({
		_id: "product:p1:USD",
		kind: "rollup",
		key: "product:p1:USD",
		metric: "product",
		productId: "p1",
		currency: "USD",
		name: "Mug",
		count: 3,
		amount: 3000,
	});
	const [signups] = rollupChanges(event("user.registered", { userId: "u1" }));
	expect(rollupUpdate(signups)).toEqual({ query: { _id: "events:2026-11-25" }, update: { $inc: { count: 1 } } });
	expect(newRollup(signups)).toEqual({
		_id: "events:2026-11-25",
		kind: "rollup",
		key: "events:2026-11-25",
		metric: "events",
		date: "2026-11-25",
		count: 1,
		amount: 0,
	});
});

it("adds up the changes of a batch of events per rollup, the last name of a product winning", () => {
	const renamed = event("order.paid", {
		...paid.data,
		items: [{ productId: "p1", name: "Big mug", unitPrice: 1000, quantity: 1, lineTotal: 1000 }],
		total: 1000,
	});
	const changes = [...rollupChanges(paid), ...rollupChanges(renamed)];
	const sums = sumChanges(changes);
	expect(Object.fromEntries(sums.map(change => [change.key, change.inc]))).toEqual({
		"events:2026-11-25": { count: 2 },
		"sales:2026-11-25:USD": { count: 2, amount: 4500 },
		"product:p1:USD": { count: 4, amount: 4000 },
		"product:p2:USD": { count: 1, amount: 500 },
	});
	expect(sums.find(change => change.key === "product:p1:USD")?.set).toEqual({ name: "Big mug" });
	// The changes summed are left as they were.
	expect(changes[0]).toMatchObject({ key: "events:2026-11-25", inc: { count: 1 } });
});
