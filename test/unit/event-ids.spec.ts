import { businessEvent, newEventId } from "../../src/events";

describe("event ids", () => {
	it("are UUIDs of version 7: the time in milliseconds first, then random bits", () => {
		const at = Date.UTC(2026, 11, 4, 12, 0, 0);
		const id = newEventId(at);
		expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
		expect(parseInt(id.replace(/-/g, "").slice(0, 12), 16)).toBe(at);
		expect(businessEvent("order.paid", {}).id).toMatch(/-7[0-9a-f]{3}-/);
	});

	it("sort in the order of their times, and never repeat", () => {
		const at = Date.now();
		const ids = [at - 2, at - 1, at].map(t => newEventId(t));
		expect([...ids].sort()).toEqual(ids);
		expect(new Set(Array.from({ length: 10_000 }, () => newEventId(at))).size).toBe(10_000);
	});
});
