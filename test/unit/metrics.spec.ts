import { ServiceBroker } from "moleculer";
import { countPublishedEvent, countRefusedReservation, setOutboxBacklog, ShopMetricsMiddleware, SHOP_METRICS } from "../../src/metrics";

function broker(metrics: boolean): ServiceBroker {
	return new ServiceBroker({ logger: false, metrics: { enabled: metrics, reporter: [] }, middlewares: [ShopMetricsMiddleware] });
}

function value(b: ServiceBroker, name: string, labels: Record<string, string> = {}): number | undefined {
	return (b.metrics.getMetric(name)?.get(labels) as { value?: number } | null)?.value;
}

describe("the shop's metrics", () => {
	it("are all registered when the broker is created, before anything moves them", () => {
		const b = broker(true);
		for (const def of Object.values(SHOP_METRICS)) expect(b.metrics.hasMetric(def.name)).toBe(true);
	});

	it("count orders by the status an order event reports", () => {
		const b = broker(true);
		countPublishedEvent(b, { type: "order.created", data: { status: "pending" } });
		countPublishedEvent(b, { type: "order.paid", data: { status: "paid" } });
		countPublishedEvent(b, { type: "order.paid", data: { status: "paid" } });
		expect(value(b, "shop.orders.total", { outcome: "paid" })).toBe(2);
		expect(value(b, "shop.orders.total", { outcome: "pending" })).toBe(1);
	});

	it("count charges by outcome and refunds by reason and amount", () => {
		const b = broker(true);
		countPublishedEvent(b, { type: "payment.succeeded", data: { amount: 500, currency: "EUR" } });
		countPublishedEvent(b, { type: "payment.failed", data: { reason: "card_declined" } });
		countPublishedEvent(b, { type: "payment.refunded", data: { reason: "order_cancelled", amount: 500, currency: "EUR" } });
		expect(value(b, "shop.payments.total", { outcome: "succeeded" })).toBe(1);
		expect(value(b, "shop.payments.total", { outcome: "failed" })).toBe(1);
		expect(value(b, "shop.refunds.total", { reason: "order_cancelled" })).toBe(1);
		expect(value(b, "shop.refunds.amount.total", { currency: "EUR" })).toBe(500);
	});

	it("ignore events that report none of these", () => {
		const b = broker(true);
		countPublishedEvent(b, { type: "user.registered", data: {} });
		const moved = (b.metrics.list({ includes: ["shop.**"] }) as unknown as { name: string; values: unknown[] }[]).filter(m => m.values.length > 0);
		expect(moved).toEqual([]);
	});

	it("keep a gauge of the outbox backlog per service", () => {
		const b = broker(true);
		setOutboxBacklog(b, "orders", 3);
		setOutboxBacklog(b, "orders", 1);
		expect(value(b, "shop.outbox.backlog", { service: "orders" })).toBe(1);
	});

	it("do nothing on a broker with metrics off", () => {
		const b = broker(false);
		expect(() => {
			countRefusedReservation(b);
			countPublishedEvent(b, { type: "order.paid", data: { status: "paid" } });
		}).not.toThrow();
		expect(b.metrics.hasMetric("shop.orders.total")).toBe(false);
	});
});
