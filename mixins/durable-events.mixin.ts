/**
 * Business events with durable delivery (DESIGN.md "Events and delivery").
 *
 * Publish: `await this.publishEvent("order.paid", data)` sends `{ id, type, at, data }`.
 * Consume: a `durableEvents` section in the service schema, one handler per event type:
 *
 *     durableEvents: { async "order.paid"(event) { ... } }
 *
 * Each service is one consumer group: its instances share the events, and each event
 * reaches the service once, also when the service was down when it was sent. Delivery is
 * at-least-once, so handlers are idempotent by `event.id` (store it with the effect).
 * The bus is NATS JetStream when NATS is configured, an in-process bus otherwise.
 *
 * List it first in `mixins`, before DbMixin: Moleculer starts the last-listed mixin first,
 * so the store is connected (and its unique indexes built) before events arrive.
 */
import type { Service, ServiceBroker, ServiceSchema } from "moleculer";
import { config } from "../src/config";
import { defaultRetryDelay, type EventBus } from "../src/durable-events/bus";
import { jetStreamBus } from "../src/durable-events/jetstream-bus";
import { localBus } from "../src/durable-events/local-bus";
import { businessEvent, type BusinessEvent } from "../src/events";

/** What a service gets from this mixin. */
export interface DurableEventsMethods {
	publishEvent<T>(type: string, data: T): Promise<BusinessEvent<T>>;
}

/** One bus per broker, opened by its first service that needs it and closed by its last. */
const buses = new WeakMap<ServiceBroker, { bus: Promise<EventBus>; users: number }>();

function openBus(broker: ServiceBroker): Promise<EventBus> {
	const entry = buses.get(broker);
	if (entry) {
		entry.users += 1;
		return entry.bus;
	}
	const policy = { maxDeliver: config.events.maxDeliver, retryDelayMs: defaultRetryDelay };
	const log = broker.getLogger("events");
	const { natsUrl } = config.events;
	const transporter = broker.options.transporter;
	if (!natsUrl && transporter && transporter !== "Fake") {
		throw new Error("Durable events need NATS JetStream when a transporter is set: set EVENTS_NATS_URL or a nats:// TRANSPORTER");
	}
	const bus = natsUrl
		? jetStreamBus({
				...policy,
				url: natsUrl,
				namespace: broker.namespace || "shop",
				name: `${broker.nodeID}-events`,
				ackWaitMs: config.events.ackWaitMs,
				retentionDays: config.events.retentionDays,
				log,
			})
		: Promise.resolve(
				localBus(broker.namespace, policy, (group, event, err) =>
					log.error(`Event ${event.type} ${event.id} failed ${policy.maxDeliver} times in ${group}; dead-lettered:`, err),
				),
			);
	buses.set(broker, { bus, users: 1 });
	// A bus that could not open (NATS down) is not kept: the next publish tries again.
	bus.catch(err => {
		if (buses.get(broker)?.bus === bus) buses.delete(broker);
		log.error("The event bus could not be opened:", err);
	});
	return bus;
}

async function closeBus(broker: ServiceBroker): Promise<void> {
	const entry = buses.get(broker);
	if (!entry) return;
	entry.users -= 1;
	if (entry.users > 0) return;
	buses.delete(broker);
	await (await entry.bus).close();
}

type DurableThis = Service & {
	eventBus?: Promise<EventBus>;
	eventSubscriptions?: (() => Promise<void>)[];
};

declare module "moleculer" {
	// eslint-disable-next-line @typescript-eslint/no-namespace
	namespace Service {
		interface ServiceSchema {
			/** Handlers of business events, delivered durably (mixins/durable-events.mixin.ts). */
			durableEvents?: Record<string, (event: BusinessEvent<never>) => Promise<void>>;
		}
	}
}

export const DurableEvents: Partial<ServiceSchema> = {
	methods: {
		/** Publishes a business event; call it after the write it reports has succeeded. */
		async publishEvent<T>(this: DurableThis, type: string, data: T): Promise<BusinessEvent<T>> {
			const event = businessEvent(type, data);
			this.eventBus ??= openBus(this.broker);
			let bus: EventBus;
			try {
				bus = await this.eventBus;
			} catch (err) {
				this.eventBus = undefined;
				throw err;
			}
			await bus.publish(event as BusinessEvent);
			return event;
		},
	},

	async started(this: DurableThis) {
		const handlers = this.schema.durableEvents ?? {};
		if (Object.keys(handlers).length === 0) return;
		this.eventBus ??= openBus(this.broker);
		const bus = await this.eventBus;
		this.eventSubscriptions = [];
		for (const [type, handler] of Object.entries(handlers)) {
			this.eventSubscriptions.push(await bus.subscribe(this.name, type, event => handler.call(this, event as BusinessEvent<never>)));
		}
	},

	async stopped(this: DurableThis) {
		await Promise.all((this.eventSubscriptions ?? []).map(unsubscribe => unsubscribe()));
		this.eventSubscriptions = [];
		if (this.eventBus) await closeBus(this.broker);
		this.eventBus = undefined;
	},
};
