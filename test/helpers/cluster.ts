/**
 * Starts the services under test on in-process brokers: one broker, or several joined by
 * Moleculer's Fake transporter (an in-memory bus), with the gateway on a free port.
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { ServiceBroker, type BrokerOptions, type ServiceSchema } from "moleculer";
import brokerConfig from "../../moleculer.config";
import { DurableEvents } from "../../mixins/durable-events.mixin";
import type { BusinessEvent } from "../../src/events";
import AnalyticsService from "../../services/analytics.service";
import ApiService from "../../services/api.service";
import CatalogService from "../../services/catalog.service";
import DiscoveryService from "../../services/discovery.service";
import NotificationsService from "../../services/notifications.service";
import OrdersService from "../../services/orders.service";
import PaymentsService from "../../services/payments.service";
import UsersService from "../../services/users.service";

export const ALL_SERVICES: Record<string, ServiceSchema> = {
	api: ApiService as ServiceSchema,
	users: UsersService as ServiceSchema,
	discovery: DiscoveryService as ServiceSchema,
	catalog: CatalogService as ServiceSchema,
	payments: PaymentsService as ServiceSchema,
	orders: OrdersService as ServiceSchema,
	notifications: NotificationsService as ServiceSchema,
	analytics: AnalyticsService as ServiceSchema,
};

let namespaceSeq = 0;

/** A namespace of its own for each test cluster, so that clusters in one file never meet. */
export function freshNamespace(): string {
	namespaceSeq += 1;
	return `test-${process.pid}-${namespaceSeq}`;
}

export type NodeOptions = {
	nodeID: string;
	namespace: string;
	services: string[];
	/** Joins the node to the others of its namespace over the in-memory Fake transporter. */
	networked?: boolean;
	/** Broker options of this node over the test defaults (metrics, middlewares). */
	brokerOptions?: Partial<BrokerOptions>;
};

export async function startNode({ nodeID, namespace, services, networked = false, brokerOptions = {} }: NodeOptions): Promise<ServiceBroker> {
	const broker = new ServiceBroker({
		...brokerConfig,
		nodeID,
		namespace,
		transporter: networked ? "Fake" : null,
		logger: false,
		metrics: false,
		tracing: false,
		// Fast failure detection for tests that stop nodes.
		heartbeatInterval: 1,
		heartbeatTimeout: 3,
		...brokerOptions,
	});
	for (const name of services) {
		const schema = ALL_SERVICES[name];
		// The gateway listens on a free port; gatewayUrl() tells which.
		broker.createService(name === "api" ? { ...schema, settings: { ...schema.settings, port: 0, ip: "127.0.0.1" } } : schema);
	}
	await broker.start();
	return broker;
}

export function gatewayUrl(broker: ServiceBroker): string {
	const api = broker.getLocalService("api") as unknown as { server: Server } | undefined;
	if (!api) throw new Error(`node ${broker.nodeID} runs no gateway`);
	return `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
		await new Promise(resolve => setTimeout(resolve, 50));
	}
}

export type SeenEvent = { event: string; payload: BusinessEvent<any> };

/**
 * Adds a service to `broker` that consumes the given business events durably, as
 * notifications and analytics do, and returns the list it records them in.
 */
export async function eventProbe(broker: ServiceBroker, name: string, types: string[]): Promise<SeenEvent[]> {
	const seen: SeenEvent[] = [];
	const record = (event: BusinessEvent<any>) => {
		seen.push({ event: event.type, payload: event });
		return Promise.resolve();
	};
	broker.createService({ name, mixins: [DurableEvents], durableEvents: Object.fromEntries(types.map(type => [type, record])) });
	await broker.waitForServices(name);
	return seen;
}

export type ShopCluster = { brokers: ServiceBroker[]; url: string; stop(): Promise<void> };

/** Waits until the gateway is ready: it routes every service it can see (it builds its routes a moment after they start). */
export async function waitForRoutes(url: string): Promise<void> {
	const probes = ["/api/discovery/health", "/api/users/me", "/api/products", "/api/orders", "/api/payments"];
	await waitFor(async () => {
		if ((await fetch(`${url}/ready`)).status !== 200) return undefined;
		const statuses = await Promise.all(probes.map(async path => (await fetch(`${url}${path}`)).status));
		return statuses.every(status => status !== 404 && status !== 503) ? true : undefined;
	}, "the gateway routes");
}

/** One broker with every service, ready when the gateway routes the API. */
export async function startShop(): Promise<ShopCluster> {
	const broker = await startNode({ nodeID: "shop", namespace: freshNamespace(), services: Object.keys(ALL_SERVICES) });
	const url = gatewayUrl(broker);
	await waitForRoutes(url);
	return { brokers: [broker], url, stop: () => broker.stop() };
}
