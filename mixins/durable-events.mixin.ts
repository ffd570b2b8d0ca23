/**
 * Business events with durable delivery (docs/architecture.md "Delivery").
 *
 * Produce: a write that owes events records them in its own document, in the same atomic
 * write (DbMixin `outbox: true`, src/durable-events/outbox.ts); `relayOwed(doc)` right
 * after the write publishes them; what that could not publish is tried again soon by id,
 * and a scan on every instance now and then publishes whatever any instance left owed
 * (a crash or a bus outage in between only delays an event). An event that no
 * write owes (a promotion) is sent with `publishEvent`, which fails if the bus does.
 *
 * Consume: a `durableEvents` section in the service schema, one handler per event type,
 * typed from the catalog in src/events.ts:
 *
 *     durableEvents: { async "order.paid"(event) { ... } }
 *
 * Each service is one consumer group: its instances share the events, and each event
 * reaches the service once, also when the service was down when it was sent. Delivery is
 * at-least-once, so handlers are idempotent by `event.id` (store it with the effect).
 * Handlers run as part of the request that caused the event: their log lines name it.
 * The bus is NATS JetStream when NATS is configured, an in-process bus otherwise.
 *
 * List it first in `mixins`, before DbMixin: Moleculer starts the last-listed mixin first,
 * so the store is connected (and its unique indexes built) before events arrive.
 */
import type { Service, ServiceBroker, ServiceSchema } from "moleculer";
import { config } from "../src/config";
import { backoff, type DeadLetter, type DeliveryPolicy, type EventBus } from "../src/durable-events/bus";
import { jetStreamBus } from "../src/durable-events/jetstream-bus";
import { localBus } from "../src/durable-events/local-bus";
import { owedEvents, relayDocument, type OutboxFields, type OutboxStore } from "../src/durable-events/outbox";
import { newEvent, type BusinessEvent, type EventOf, type EventPayloads, type EventType } from "../src/events";
import { countDeadLetter, countEventDelivery, countEventRetry, countPublishedEvent, setOutboxBacklog } from "../src/metrics";
import { runWithRequestID } from "../src/request-context";

/** What a service gets from this mixin. */
export interface DurableEventsMethods {
	/** Publishes an event that no stored write owes; fails when the bus does. */
	publishEvent<K extends EventType>(type: K, data: EventPayloads[K]): Promise<EventOf<K>>;
	/** Publishes, in the background, what `doc` owes; what fails stays owed for the relay. */
	relayOwed(doc: ({ _id: string } & OutboxFields) | null): void;
	/** Publishes what the service's documents still owe; answers how many events went out. A document it could not publish is logged and stays owed. */
	relayOutbox(): Promise<number>;
	/** The dead letters of every group, oldest first. */
	fetchDeadLetters(limit: number): Promise<DeadLetter[]>;
	/** Publishes a dead letter's event again and drops it (see EventBus.replay); false when there is no such dead letter. */
	resendDeadLetter(id: string): Promise<boolean>;
}

export const deliveryPolicy = (): DeliveryPolicy => ({
	maxDeliver: config.events.maxDeliver,
	giveUpAfterMs: config.events.giveUpAfterMs,
	retryDelayMs: backoff(config.events.retryFirstDelayMs, config.events.retryMaxDelayMs),
});

/** One bus per broker, opened by its first service that needs it and closed by its last. */
const buses = new WeakMap<ServiceBroker, { bus: Promise<EventBus>; users: number }>();

function openBus(broker: ServiceBroker): Promise<EventBus> {
	const entry = buses.get(broker);
	if (entry) {
		entry.users += 1;
		return entry.bus;
	}
	const policy = deliveryPolicy();
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
				replicas: config.events.replicas,
				log,
				onDeadLetter: (group, event) => countDeadLetter(broker, event.type, group),
			})
		: Promise.resolve(
				localBus(broker.namespace, policy, (letter, err) => {
					countDeadLetter(broker, letter.event.type, letter.group);
					log.error(`Event ${letter.event.type} ${letter.event.id} failed ${letter.deliveries} times in ${letter.group}; dead-lettered:`, err);
				}),
			);
	buses.set(broker, { bus, users: 1 });
	// A bus that could not open (NATS down) is not kept: the next use tries again.
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

type DurableThis = Service &
	DurableEventsMethods & {
		eventBus?: Promise<EventBus>;
		eventSubscriptions?: (() => Promise<void>)[];
		relayTimer?: NodeJS.Timeout;
		scanTimer?: NodeJS.Timeout;
		/** Documents whose events this instance is publishing right now, each with the promise of that relay. */
		relaying?: Map<string, Promise<number>>;
		/** Of those, the ones written again meanwhile: read and relayed again once the current round is done. */
		relayAgain?: Set<string>;
		/** Documents whose events this instance failed to publish after their write: tried again soon, by id. */
		owedHere?: Set<string>;
		/** The retry of `owedHere` under way, if any (one at a time). */
		relayingOwedHere?: Promise<void>;
		relayOwedHere(): Promise<void>;
		/** From DbMixin `outbox: true`. */
		outboxStore?: () => OutboxStore;
		bus(): Promise<EventBus>;
		relayDoc(store: OutboxStore, doc: { _id: string } & OutboxFields): Promise<number>;
	};

/** One handler per event type, typed from the catalog, with the service as `this`. */
export type DurableHandlers<TThis> = { [K in EventType]?: (this: TThis, event: EventOf<K>) => Promise<void> };

declare module "moleculer" {
	// eslint-disable-next-line @typescript-eslint/no-namespace
	namespace Service {
		// The same type parameters as Moleculer's own declaration, so that handlers get the service's `this`.
		interface ServiceSchema<
			TSettings = ServiceSettingSchema,
			TMethods = Record<string, any>, // eslint-disable-line @typescript-eslint/no-explicit-any
			TVars = Record<string, any>, // eslint-disable-line @typescript-eslint/no-explicit-any
			TThis = Service<TSettings> & TVars & TMethods,
		> {
			/** Handlers of business events, delivered durably (mixins/durable-events.mixin.ts). */
			durableEvents?: DurableHandlers<TThis>;
		}
	}
}

export const DurableEvents: Partial<ServiceSchema> = {
	actions: {
		/** For operators (REPL, metrics): the events this service's documents owe and have not published yet. */
		outboxBacklog: {
			visibility: "public",
			async handler(this: Service): Promise<{ service: string; documents: number; events: number }> {
				const service = this as DurableThis;
				if (!service.outboxStore) return { service: service.name, documents: 0, events: 0 };
				const owing = await service.outboxStore().owing(1000);
				return { service: service.name, documents: owing.length, events: owedEvents(owing) };
			},
		},
	},

	methods: {
		/** The bus, opened on first use; a bus that failed to open is tried again next time. */
		async bus(this: DurableThis): Promise<EventBus> {
			this.eventBus ??= openBus(this.broker);
			try {
				return await this.eventBus;
			} catch (err) {
				this.eventBus = undefined;
				throw err;
			}
		},

		async publishEvent<K extends EventType>(this: DurableThis, type: K, data: EventPayloads[K]): Promise<EventOf<K>> {
			const event = newEvent(type, data);
			const bus = await this.bus();
			const published = bus.publish(event as BusinessEvent);
			// A bus that stores nothing answers once every group has handled the event: the caller does not wait for that.
			if (bus.storesEvents) await published;
			else published.catch(err => this.logger.error(`Event ${event.type} ${event.id} was not delivered:`, err));
			return event;
		},

		/**
		 * Publishes what `doc` owes and takes it off as each event is published (stored by
		 * JetStream, or handled by every group of the in-process bus). A document already being
		 * relayed here is not relayed twice: the caller gets the relay under way (and its
		 * failure, if it fails), which reads the document again once it is done, since the
		 * write that asked may have added an event it did not see.
		 */
		relayDoc(this: DurableThis, store: OutboxStore, doc: { _id: string } & OutboxFields): Promise<number> {
			this.relaying ??= new Map();
			const running = this.relaying.get(doc._id);
			if (running) {
				(this.relayAgain ??= new Set()).add(doc._id);
				return running.then(() => 0);
			}
			// Set before relayRounds can end: it awaits the bus before anything else, and forgets the document as it ends.
			const relay = relayRounds(this, store, doc);
			this.relaying.set(doc._id, relay);
			return relay;
		},

		relayOwed(this: DurableThis, doc: ({ _id: string } & OutboxFields) | null) {
			if (!doc?.outboxSize || !this.outboxStore) return;
			// The write has committed: a failure here never fails it, the relay publishes later.
			this.relayDoc(this.outboxStore(), doc).catch(err => {
				(this.owedHere ??= new Set()).add(doc._id);
				this.logger.warn(`Events of ${this.name} ${doc._id} are not published yet (${String(err)}); the relay will publish them`);
			});
		},

		/**
		 * Publishes what the documents this instance wrote still owe (found by id, cheap on any
		 * store), a few side by side; one retry at a time. A document stays in `owedHere` until
		 * a relay of it succeeds.
		 */
		async relayOwedHere(this: DurableThis) {
			if (!this.owedHere?.size || !this.outboxStore || this.relayingOwedHere) return;
			const store = this.outboxStore();
			const ids = [...this.owedHere].filter(id => !this.relaying?.has(id));
			const retry = async () => {
				for (let i = 0; i < ids.length; i += RELAY_SIDE_BY_SIDE) {
					await Promise.all(
						ids.slice(i, i + RELAY_SIDE_BY_SIDE).map(async id => {
							const doc = await store.byId(id);
							if (doc?.outboxSize) await this.relayDoc(store, doc);
							this.owedHere?.delete(id);
						}),
					);
				}
			};
			this.relayingOwedHere = retry().finally(() => (this.relayingOwedHere = undefined));
			await this.relayingOwedHere;
		},

		async relayOutbox(this: DurableThis): Promise<number> {
			if (!this.outboxStore) return 0;
			const store = this.outboxStore();
			// Not the documents being relayed here already: a page of them (a group still retrying their events) would hide the rest.
			const owing = await store.owing(100, [...(this.relaying?.keys() ?? [])]);
			setOutboxBacklog(this.broker, this.name, owedEvents(owing));
			// Side by side: one document that cannot be published (the bus is down), or whose event a group is still retrying, does not hold up the others; each failure is told as it happens.
			const counts = await Promise.all(
				owing.map(doc =>
					this.relayDoc(store, doc).catch(err => {
						relayWillRetry(this, "scan")(err);
						return 0;
					}),
				),
			);
			return counts.reduce((sum, n) => sum + n, 0);
		},

		async fetchDeadLetters(this: DurableThis, limit: number): Promise<DeadLetter[]> {
			return (await this.bus()).deadLetters(limit);
		},

		async resendDeadLetter(this: DurableThis, id: string): Promise<boolean> {
			return (await this.bus()).replay(id);
		},
	},

	events: {
		/** Every service of this broker has started: publish what the outboxes still owe from before. */
		"$broker.started"(this: Service) {
			scanOutbox(this as DurableThis);
		},
	},

	async started(this: Service) {
		await startDurableEvents(this as DurableThis);
	},

	async stopped(this: Service) {
		const self = this as DurableThis;
		clearInterval(self.relayTimer);
		clearInterval(self.scanTimer);
		await Promise.all((self.eventSubscriptions ?? []).map(unsubscribe => unsubscribe()));
		self.eventSubscriptions = [];
		if (self.eventBus) await closeBus(self.broker);
		self.eventBus = undefined;
	},
};

/** How many documents the retry of an instance's own writes relays side by side. */
const RELAY_SIDE_BY_SIDE = 16;

/**
 * Relays `doc`, then again from a fresh read for as long as a write asked for that meanwhile
 * (`relayAgain`). The last look at `relayAgain` and forgetting the document happen in one
 * synchronous step, so that no request falls between them.
 */
async function relayRounds(service: DurableThis, store: OutboxStore, doc: { _id: string } & OutboxFields): Promise<number> {
	try {
		const bus = await service.bus();
		const publish = async (event: BusinessEvent) => {
			await bus.publish(event);
			countPublishedEvent(service.broker, event);
		};
		let published = 0;
		for (let current: ({ _id: string } & OutboxFields) | null = doc; ; current = await store.byId(doc._id)) {
			if (current?.outboxSize) published += await relayDocument(store, publish, current);
			if (!service.relayAgain?.delete(doc._id)) return published;
		}
	} finally {
		service.relaying?.delete(doc._id);
		service.relayAgain?.delete(doc._id);
	}
}

/**
 * Runs a handler in a span of its own that continues the trace of the request that caused
 * the event, when tracing is on: one order's saga and its asynchronous tail are one trace.
 */
async function traced(service: DurableThis, event: BusinessEvent, handle: () => Promise<void>): Promise<void> {
	const { broker } = service;
	if (!broker.isTracingEnabled() || !event.trace) return handle();
	const span = broker.tracer.startSpan(`event '${event.type}' in ${service.name}`, {
		type: "event",
		traceID: event.trace.traceId,
		parentID: event.trace.parentId,
		service,
		tags: { eventId: event.id, eventType: event.type, group: service.name, requestID: event.requestId },
	});
	try {
		await handle();
	} catch (err) {
		span.setError(err as Error);
		throw err;
	} finally {
		span.finish();
	}
}

const relayWillRetry = (service: DurableThis, what: string) => (err: unknown) =>
	service.logger.warn(`The outbox relay of ${service.name} (${what}) will try again: ${String(err)}`);

/** Publishes, in the background, what any instance left owed (one that died after its write). */
function scanOutbox(service: DurableThis): void {
	if (service.outboxStore) service.relayOutbox().catch(relayWillRetry(service, "scan"));
}

/** Starts the outbox relay, if the service has an outbox, and subscribes the service's handlers. */
async function startDurableEvents(service: DurableThis): Promise<void> {
	if (service.outboxStore) {
		// What this instance's own writes could not publish: often and by id.
		service.relayTimer = setInterval(() => service.relayOwedHere().catch(relayWillRetry(service, "own writes")), config.events.relayIntervalMs);
		// The first scan waits for the broker to have started every service, so that no
		// event goes out before its consumers listen ("$broker.started" above); then now and then.
		if (service.broker.started) scanOutbox(service);
		service.scanTimer = setInterval(() => scanOutbox(service), config.events.relayScanIntervalMs);
	}
	const handlers = (service.schema.durableEvents ?? {}) as Record<string, (event: BusinessEvent) => Promise<void>>;
	if (Object.keys(handlers).length === 0) return;
	const bus = await service.bus();
	service.eventSubscriptions = [];
	for (const [type, handler] of Object.entries(handlers)) {
		const handle = (event: BusinessEvent) =>
			runWithRequestID(event.requestId, () =>
				traced(service, event, async () => {
					try {
						await handler.call(service, event);
						countEventDelivery(service.broker, event.type, service.name, "handled");
					} catch (err) {
						countEventDelivery(service.broker, event.type, service.name, "failed");
						countEventRetry(service.broker, event.type, service.name);
						throw err;
					}
				}),
			);
		service.eventSubscriptions.push(await bus.subscribe(service.name, type, handle));
	}
}
