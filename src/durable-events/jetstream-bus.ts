/**
 * The bus of a cluster: NATS JetStream. Events are kept in a stream; each service has one
 * durable consumer per event type, shared by its instances (a consumer group), so an event
 * reaches a service once even when the service was down when it was sent.
 *
 * A message is acknowledged after its handler succeeded. A consumer pulls a small batch
 * and starts a handler on every message of it at once, each telling JetStream it is still
 * at work, so no message waits unattended until its ack wait runs out. A handler that
 * throws gets the message again after a backoff; an event is dead-lettered (kept in the
 * dead-letter stream, for an operator to replay) only when its handler kept failing on the
 * event itself (src/durable-events/bus.ts afterFailure). A lost connection only pauses
 * the consumers: they pull again once NATS is back.
 */
import {
	AckPolicy,
	DeliverPolicy,
	JSONCodec,
	RetentionPolicy,
	StorageType,
	connect,
	nanos,
	type Consumer,
	type JetStreamManager,
	type JsMsg,
	type NatsConnection,
} from "nats";
import type { BusinessEvent } from "../events";
import { afterFailure, type DeadLetter, type DeliveryPolicy, type EventBus, type EventHandler } from "./bus";

export type JetStreamOptions = DeliveryPolicy & {
	url: string;
	namespace: string;
	name: string;
	ackWaitMs: number;
	retentionDays: number;
	replicas: number;
	log: { info(...args: unknown[]): void; warn(...args: unknown[]): void; error(...args: unknown[]): void };
	/** Told of each event a group gave up on, once it is kept as a dead letter. */
	onDeadLetter?(group: string, event: BusinessEvent): void;
};

const eventCodec = JSONCodec<BusinessEvent>();
const deadCodec = JSONCodec<Omit<DeadLetter, "id">>();
const DAY_MS = 24 * 60 * 60 * 1000;
/**
 * Messages one consumer of one instance pulls, and handles at once. Each is kept alive
 * while in hand; none waits unattended. A few at a time: one at a time left analytics
 * behind a 60 s order run for 10 s after it (a round trip to NATS per event), while more
 * would crowd a service's requests out of a shared store; instances and event types add up.
 */
const BATCH = 4;
/** How long one pull waits for messages before it asks again. */
const PULL_EXPIRES_MS = 5_000;

/** Stream and subject names allow letters, digits, - and _. */
const token = (text: string) => text.replace(/[^\w-]/g, "_");

const pause = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

async function ensureStream(jsm: JetStreamManager, name: string, subject: string, maxAgeMs: number, replicas: number): Promise<void> {
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
				num_replicas: replicas,
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

	const nc: NatsConnection = await connect({ servers: options.url.split(","), name: options.name, maxReconnectAttempts: -1 });
	const jsm = await nc.jetstreamManager();
	await ensureStream(jsm, stream, `${ns}.events.>`, options.retentionDays * DAY_MS, options.replicas);
	await ensureStream(jsm, deadStream, `${ns}.dead.>`, options.retentionDays * DAY_MS, options.replicas);
	const js = nc.jetstream();
	const stops = new Set<() => Promise<void>>();

	async function deadLetter(group: string, event: BusinessEvent, err: unknown, deliveries: number): Promise<void> {
		const letter = { group, event, error: String(err), failedAt: new Date().toISOString(), deliveries };
		await js.publish(`${ns}.dead.${token(group)}.${event.type}`, deadCodec.encode(letter));
	}

	async function handle(group: string, message: JsMsg, handler: EventHandler): Promise<void> {
		let event: BusinessEvent;
		try {
			event = eventCodec.decode(message.data);
		} catch {
			options.log.error(`A message on ${message.subject} is not an event; dropped`);
			message.term();
			return;
		}
		const attempt = message.info.deliveryCount;
		// A long handler (a promotion to every user) tells JetStream it is still at work.
		const alive = setInterval(() => message.working(), Math.max(500, options.ackWaitMs / 3));
		try {
			await handler(event);
			message.ack();
		} catch (err) {
			const next = afterFailure(options, err, attempt);
			if (next === "dead-letter") {
				options.log.error(`Event ${event.type} ${event.id} failed ${attempt} times in ${group}; dead-lettered:`, err);
				try {
					await deadLetter(group, event, err, attempt);
					message.term();
					options.onDeadLetter?.(group, event);
				} catch (e) {
					// Not kept as a dead letter: it stays in the consumer and comes again.
					options.log.error("Dead-lettering failed:", e);
					message.nak(options.retryDelayMs(attempt));
				}
			} else {
				options.log.warn(`Event ${event.type} ${event.id} failed in ${group} (delivery ${attempt}); again in ${next.retryInMs} ms:`, String(err));
				message.nak(next.retryInMs);
			}
		} finally {
			clearInterval(alive);
		}
	}

	return {
		storesEvents: true,
		async publish(event) {
			// msgID: a publish repeated after a lost acknowledgement is stored once.
			await js.publish(subjectOf(event.type), eventCodec.encode(event), { msgID: event.id });
		},

		async subscribe(group, type, handler: EventHandler) {
			const durable = `${token(group)}--${token(type)}`;
			const consumerConfig = {
				durable_name: durable,
				ack_policy: AckPolicy.Explicit,
				deliver_policy: DeliverPolicy.All,
				filter_subject: subjectOf(type),
				ack_wait: nanos(options.ackWaitMs),
				max_deliver: -1,
			};
			const ensureConsumer = async () => {
				try {
					await jsm.consumers.add(stream, consumerConfig);
				} catch (err) {
					await jsm.consumers.info(stream, durable).catch(() => Promise.reject(err));
				}
			};
			await ensureConsumer();

			let running = true;
			let pulling: { stop(): void } | undefined;
			let consumer: Consumer | undefined;
			const loop = (async () => {
				while (running) {
					try {
						consumer ??= await js.consumers.get(stream, durable);
						const batch = await consumer.fetch({ max_messages: BATCH, expires: PULL_EXPIRES_MS });
						pulling = batch;
						const inHand: Promise<void>[] = [];
						for await (const message of batch) inHand.push(handle(group, message, handler));
						await Promise.all(inHand);
					} catch (err) {
						if (!running) break;
						consumer = undefined;
						options.log.warn(`The consumer ${durable} could not pull (${String(err)}); trying again`);
						await pause(1000);
						await ensureConsumer().catch(() => undefined);
					}
				}
			})();

			const stop = async () => {
				running = false;
				pulling?.stop();
				await loop;
			};
			stops.add(stop);
			return async () => {
				stops.delete(stop);
				await stop();
			};
		},

		async deadLetters(limit) {
			const info = await jsm.streams.info(deadStream);
			const letters: DeadLetter[] = [];
			for (let seq = info.state.first_seq; seq <= info.state.last_seq && letters.length < limit; seq += 1) {
				const stored = await jsm.streams.getMessage(deadStream, { seq }).catch(() => null);
				if (stored) letters.push({ id: String(seq), ...deadCodec.decode(stored.data) });
			}
			return letters;
		},

		async replay(deadLetterId) {
			const seq = Number(deadLetterId);
			if (!Number.isSafeInteger(seq) || seq < 1) return false;
			const stored = await jsm.streams.getMessage(deadStream, { seq }).catch(() => null);
			if (!stored) return false;
			const { event } = deadCodec.decode(stored.data);
			// A message id of its own: the original is within JetStream's duplicate window maybe, this one is not.
			await js.publish(subjectOf(event.type), eventCodec.encode(event), { msgID: `${event.id}:replay:${seq}` });
			await jsm.streams.deleteMessage(deadStream, seq);
			return true;
		},

		async close() {
			await Promise.all([...stops].map(stop => stop()));
			stops.clear();
			await nc.drain();
		},
	};
}
