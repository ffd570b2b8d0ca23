/**
 * The shop's own metrics, next to Moleculer's (requests, latency, errors per action and
 * node). Registered on every broker that has metrics on (METRICS_PORT); the Prometheus
 * reporter shows them with `_` for `.`, e.g. `shop_orders_total{outcome="paid"}`.
 * The helpers do nothing on a broker with metrics off.
 */
import type { BrokerOptions, Middleware, ServiceBroker } from "moleculer";

type MetricDef = { type: "counter" | "gauge" | "histogram"; name: string; description: string; labelNames?: string[]; unit?: string; buckets?: number[] };

export const SHOP_METRICS = {
	orders: {
		type: "counter",
		name: "shop.orders.total",
		labelNames: ["outcome"],
		description: "Orders that reached a status: pending (placed), paid, payment_failed, cancelled, shipped, delivered",
	},
	payments: { type: "counter", name: "shop.payments.total", labelNames: ["outcome"], description: "Charges by outcome: succeeded or failed" },
	refunds: { type: "counter", name: "shop.refunds.total", labelNames: ["reason"], description: "Refunds by reason: refund_requested or order_cancelled" },
	refundedAmount: { type: "counter", name: "shop.refunds.amount.total", labelNames: ["currency"], description: "Money refunded, in minor units" },
	stockRefused: { type: "counter", name: "shop.stock.reservations.refused.total", description: "Stock reservations refused for want of stock" },
	eventDeliveries: {
		type: "counter",
		name: "shop.events.deliveries.total",
		labelNames: ["type", "group", "outcome"],
		description: "Deliveries of business events to a consuming service, by outcome: handled or failed",
	},
	eventRetries: {
		type: "counter",
		name: "shop.events.retries.total",
		labelNames: ["type", "group"],
		description: "Business events delivered again after a failed or unacknowledged delivery",
	},
	deadLetters: {
		type: "counter",
		name: "shop.events.dead_letters.total",
		labelNames: ["type", "group"],
		description: "Business events given up on and moved to the dead letters",
	},
	cachedResponses: {
		type: "counter",
		name: "shop.gateway.cached_responses.total",
		labelNames: ["action"],
		description: "Answers the gateway sent from its response cache, without calling the action (Moleculer's request metrics do not count them)",
	},
	outboxBacklog: { type: "gauge", name: "shop.outbox.backlog", labelNames: ["service"], description: "Business events written and not yet published" },
} satisfies Record<string, MetricDef>;

function registerOnce(broker: ServiceBroker, def: MetricDef): boolean {
	if (!broker.isMetricsEnabled()) return false;
	if (!broker.metrics.hasMetric(def.name)) broker.metrics.register({ ...def } as Parameters<ServiceBroker["metrics"]["register"]>[0]);
	return true;
}

/** Registers every shop metric, so that each is scraped (at zero) before it first moves. */
export function registerShopMetrics(broker: ServiceBroker): void {
	for (const def of Object.values(SHOP_METRICS)) registerOnce(broker, def);
}

function increment(broker: ServiceBroker, def: MetricDef, labels?: Record<string, string>, value = 1): void {
	if (registerOnce(broker, def)) broker.metrics.increment(def.name, labels, value);
}

export const countOrder = (broker: ServiceBroker, outcome: string) => increment(broker, SHOP_METRICS.orders, { outcome });
export const countPayment = (broker: ServiceBroker, outcome: "succeeded" | "failed") => increment(broker, SHOP_METRICS.payments, { outcome });
export function countRefund(broker: ServiceBroker, reason: string, amount: number, currency: string): void {
	increment(broker, SHOP_METRICS.refunds, { reason });
	increment(broker, SHOP_METRICS.refundedAmount, { currency }, amount);
}
export const countRefusedReservation = (broker: ServiceBroker) => increment(broker, SHOP_METRICS.stockRefused);
export const countEventDelivery = (broker: ServiceBroker, type: string, group: string, outcome: "handled" | "failed") =>
	increment(broker, SHOP_METRICS.eventDeliveries, { type, group, outcome });
export const countEventRetry = (broker: ServiceBroker, type: string, group: string) => increment(broker, SHOP_METRICS.eventRetries, { type, group });
export const countDeadLetter = (broker: ServiceBroker, type: string, group: string) => increment(broker, SHOP_METRICS.deadLetters, { type, group });
export const countCachedResponse = (broker: ServiceBroker, action: string) => increment(broker, SHOP_METRICS.cachedResponses, { action });
export function setOutboxBacklog(broker: ServiceBroker, service: string, pending: number): void {
	if (registerOnce(broker, SHOP_METRICS.outboxBacklog)) broker.metrics.set(SHOP_METRICS.outboxBacklog.name, pending, { service });
}

type EventFacts = { type: string; data: { status?: unknown; reason?: unknown; amount?: unknown; currency?: unknown } };

/**
 * Counts what a published business event reports: an order reaching a status, a charge's
 * outcome, a refund. One call where events are published covers every producer.
 */
export function countPublishedEvent(broker: ServiceBroker, { type, data }: EventFacts): void {
	if (type.startsWith("order.") && typeof data.status === "string") countOrder(broker, data.status);
	else if (type === "payment.succeeded") countPayment(broker, "succeeded");
	else if (type === "payment.failed") countPayment(broker, "failed");
	else if (type === "payment.refunded") countRefund(broker, String(data.reason ?? "unknown"), Number(data.amount ?? 0), String(data.currency ?? "unknown"));
}

/** Registers the shop's metrics on every broker created with it. */
export const ShopMetricsMiddleware: Middleware = {
	name: "ShopMetrics",
	created: (broker: ServiceBroker) => registerShopMetrics(broker),
};

/** Broker metrics options: a Prometheus endpoint on `port` (/metrics), every series labelled with namespace and node. */
export function prometheusMetrics(port: number): BrokerOptions["metrics"] {
	return {
		enabled: true,
		reporter: [
			{
				type: "Prometheus",
				options: {
					port,
					defaultLabels: (registry: { broker: { namespace: string; nodeID: string } }) => ({
						namespace: registry.broker.namespace,
						nodeID: registry.broker.nodeID,
					}),
				},
			},
		],
	};
}
