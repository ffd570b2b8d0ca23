/**
 * The bus of a cluster: NATS JetStream. Events are kept in a stream; each service has one
 * durable consumer per event type, shared by its instances (a consumer group), so an event
 * reaches a service once even when the service was down when it was sent. A message is
 * acknowledged after its handler succeeded; a crash before that means redelivery after
 * the ack wait; after `maxDeliver` failures it goes to the dead-letter stream.
 */
import { AckPolicy, DeliverPolicy, JSONCodec, RetentionPolicy, StorageType, connect, nanos, type ConsumerMessages, type JetStreamManager, type NatsConnection } from "nats";
import type { BusinessEvent } from "../events";
import type { DeliveryPolicy, EventBus, EventHandler } from "./bus";

export type JetStreamOptions = DeliveryPolicy & {
	url: string;
	namespace: string;
	name: string;
	ackWaitMs: number;
	retentionDays: number;
	log: { warn(...args: unknown[]): void; error(...args: unknown[]): void };
};

const codec = JSONCodec<BusinessEvent>();
const DAY_MS = 24 * 60 * 60 * 1000;

/** Stream and subject names allow letters, digits, - and _. */
const token = (text: string) => text.replace(/[^\w-]/g, "_");

async function ensureStream(jsm: JetStreamManager, name: string, subject: string, maxAgeMs: number): Promise<void> {
	try {
		await jsm.streams.info(name);
	} catch {
		try {
			await jsm.streams.add({
				name,
				subjects: [subject],
				retention: RetentionPolicy.Limits,
				storage: StorageType.File,
				max_age: nanos(maxAgeMs),
				duplicate_window: nanos(2 * 60 * 1000),
			});
		} catch (err) {
			// Another node created it at the same moment.
			await jsm.streams.info(name).catch(() => Promise.reject(err));
		}
	}
}

export async function jetStreamBus(options: JetStreamOptions): Promise<EventBus> {
	const ns = token(options.namespace);
	const stream = `${ns}_events`;
	const deadStream = `${ns}_dead_letters`;
	const subjectOf = (type: string) => `${ns}.events.${type}`;

	const nc: NatsConnection = await connect({ servers: options.url, name: options.name, maxReconnectAttempts: -1 });
	const jsm = await nc.jetstreamManager();
	await ensureStream(jsm, stream, `${ns}.events.>`, options.retentionDays * DAY_MS);
	await ensureStream(jsm, deadStream, `${ns}.dead.>`, options.retentionDays * DAY_MS);
	const js = nc.jetstream();
	const running = new Set<ConsumerMessages>();

	return {
		async publish(event) {
			// msgID: a publish repeated after a lost acknowledgement is stored once.
			await js.publish(subjectOf(event.type), codec.encode(event), { msgID: event.id });
		},

		async subscribe(group, type, handler: EventHandler) {
			const durable = `${token(group)}--${token(type)}`;
			const config = {
				durable_name: durable,
				ack_policy: AckPolicy.Explicit,
				deliver_policy: DeliverPolicy.All,
				filter_subject: subjectOf(type),
				ack_wait: nanos(options.ackWaitMs),
				max_deliver: -1,
			};
			try {
				await jsm.consumers.add(stream, config);
			} catch (err) {
				await jsm.consumers.info(stream, durable).catch(() => Promise.reject(err));
			}
			const consumer = await js.consumers.get(stream, durable);
			const messages = await consumer.consume({ max_messages: 16 });
			running.add(messages);

			void (async () => {
				for await (const message of messages) {
					let event: BusinessEvent;
					try {
						event = codec.decode(message.data);
					} catch {
						options.log.error(`A message on ${message.subject} is not an event; dropped`);
						message.term();
						continue;
					}
					const attempt = message.info.deliveryCount;
					// A long handler (a promotion to every user) tells JetStream it is still at work.
					const alive = setInterval(() => message.working(), Math.max(1000, options.ackWaitMs / 2));
					try {
						await handler(event);
						message.ack();
					} catch (err) {
						if (attempt >= options.maxDeliver) {
							options.log.error(`Event ${event.type} ${event.id} failed ${attempt} times in ${group}; dead-lettered:`, err);
							await js.publish(`${ns}.dead.${token(group)}.${event.type}`, codec.encode(event)).catch(e => options.log.error("Dead-lettering failed:", e));
							message.term();
						} else {
							options.log.warn(`Event ${event.type} ${event.id} failed in ${group} (delivery ${attempt}); it will come again:`, String(err));
							message.nak(options.retryDelayMs(attempt));
						}
					} finally {
						clearInterval(alive);
					}
				}
			})().catch(err => options.log.error(`The consumer ${durable} stopped:`, err));

			return async () => {
				running.delete(messages);
				await messages.close();
			};
		},

		async close() {
			for (const messages of running) await messages.close();
			running.clear();
			await nc.drain();
		},
	};
}
