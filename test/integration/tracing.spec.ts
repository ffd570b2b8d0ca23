/**
 * With tracing on, one order is one trace across services and the event bus: the handler
 * of a business event runs in a span that is a child of the request that caused it. And
 * no span keeps a password, a token or a card number.
 */
import { ServiceBroker } from "moleculer";
import brokerConfig from "../../moleculer.config";
import { ALL_SERVICES, freshNamespace, gatewayUrl, waitFor, waitForRoutes } from "../helpers/cluster";
import { cardPayment, createProduct, SANDBOX_CARDS } from "../helpers/fixtures";
import { adminToken, client, newCustomer, type Client } from "../helpers/http";

type SpanRecord = { name: string; id: string; traceID: string; parentID?: string | null; tags: Record<string, unknown>; error?: unknown };

let broker: ServiceBroker;
let api: Client;
const spans: SpanRecord[] = [];

beforeAll(async () => {
	broker = new ServiceBroker({
		...brokerConfig,
		nodeID: "traced",
		namespace: freshNamespace(),
		transporter: null,
		logger: false,
		metrics: false,
		tracing: {
			...(brokerConfig.tracing as object),
			enabled: true,
			// Every finished span goes out at once, as a local event the probe below records.
			exporter: [{ type: "Event", options: { interval: 0 } }],
		},
	});
	for (const [name, schema] of Object.entries(ALL_SERVICES)) {
		broker.createService(name === "api" ? { ...schema, settings: { ...schema.settings, port: 0, ip: "127.0.0.1" } } : schema);
	}
	broker.createService({
		name: "span-probe",
		events: {
			"$tracing.spans"(ctx: { params: SpanRecord[] }) {
				spans.push(...ctx.params);
			},
		},
	});
	await broker.start();
	await waitForRoutes(gatewayUrl(broker));
	api = client(gatewayUrl(broker));
});
afterAll(() => broker.stop());

it("traces an order and its asynchronous tail as one trace, and keeps no secret in any span", async () => {
	const admin = await adminToken(api);
	const productId = await createProduct(api, admin, { stock: 5 });
	const customer = await newCustomer(api, "Traced");
	const placed = await api.post("/api/orders", { items: [{ productId, quantity: 1 }], payment: cardPayment() }, { token: customer.token });
	expect(placed.status).toBe(201);

	const consumed = await waitFor(
		() => spans.find(span => span.tags.eventType === "order.paid" && span.name.includes("notifications")),
		"the span of notifications handling order.paid",
	);
	const create = spans.find(span => span.name.includes("orders.create"));
	expect(create).toBeDefined();
	expect(consumed.traceID).toBe(create!.traceID);
	// Its parent is a span of that same request (the action that wrote the event), not a new root.
	const parent = spans.find(span => span.id === consumed.parentID);
	expect(parent?.traceID).toBe(create!.traceID);

	const everything = JSON.stringify(spans);
	expect(everything).not.toContain(SANDBOX_CARDS.succeeds);
	expect(everything).not.toContain(customer.password);
	expect(everything).not.toContain(customer.token);
});
