/**
 * What the durable-events mixin needs from a message bus: publish an event, consume one
 * event type as a group (every service is one group; its instances share the work), and
 * keep the events a group gave up on (dead letters) until an operator replays them.
 */
import type { BusinessEvent } from "../events";
import { isUnavailable } from "../errors";

export type EventHandler = (event: BusinessEvent) => Promise<void>;

/** An event that a group's handler kept failing on. */
export type DeadLetter = {
	/** The bus's id of this dead letter (not the event's). */
	id: string;
	group: string;
	event: BusinessEvent;
	/** The handler's last error, as text. */
	error: string;
	failedAt: string;
	deliveries: number;
};

export interface EventBus {
	/**
	 * True when `publish` answers once the bus has stored the event (JetStream). False for a
	 * bus that keeps events in memory only: its `publish` answers once every group has handled
	 * the event (or dead-lettered it), so that an outbox keeps the event until then.
	 */
	readonly storesEvents: boolean;
	publish(event: BusinessEvent): Promise<void>;
	/** Delivers each event of `type` to one member of `group`, again later if the handler throws. */
	subscribe(group: string, type: string, handler: EventHandler): Promise<() => Promise<void>>;
	/** The dead letters, oldest first, at most `limit`. */
	deadLetters(limit: number): Promise<DeadLetter[]>;
	/**
	 * Publishes a dead letter's event again and removes the dead letter (JetStream at once;
	 * the in-process bus once every group has it again, unless it failed again); false when
	 * there is no such dead letter. Every group receives the event again: consumers are
	 * idempotent by event id, so only the group that had given up does anything with it.
	 */
	replay(deadLetterId: string): Promise<boolean>;
	close(): Promise<void>;
}

export type DeliveryPolicy = {
	/** Deliveries of one event to one group, at least, before it may be dead-lettered. */
	maxDeliver: number;
	/** How long the retries of a failing event must have lasted, at least, before it may be dead-lettered. */
	giveUpAfterMs: number;
	/** Delay before the next delivery of an event whose handler threw, by attempt number (1, 2, ...). */
	retryDelayMs(attempt: number): number;
};

/** Exponential backoff from `baseMs`, capped at `maxMs`. */
export function backoff(baseMs: number, maxMs: number): (attempt: number) => number {
	return attempt => Math.min(baseMs * 2 ** Math.min(attempt - 1, 30), maxMs);
}

/** How long the retries before delivery `attempt` waited in all: the least time since the first delivery. */
export function waitedBefore(policy: DeliveryPolicy, attempt: number): number {
	let total = 0;
	for (let i = 1; i < attempt; i += 1) total += policy.retryDelayMs(i);
	return total;
}

/**
 * What to do after a handler threw on its `attempt`-th delivery of an event: try again
 * later, or give up (dead-letter) once it has failed `maxDeliver` times over at least
 * `giveUpAfterMs` of retries. A dependency that is unavailable (a service with no
 * instance, a timeout, a database or bus that does not answer) is never the event's
 * fault: such an event is retried for as long as it takes.
 */
export function afterFailure(policy: DeliveryPolicy, err: unknown, attempt: number): { retryInMs: number } | "dead-letter" {
	if (!isUnavailable(err) && attempt >= policy.maxDeliver && waitedBefore(policy, attempt) >= policy.giveUpAfterMs) return "dead-letter";
	return { retryInMs: policy.retryDelayMs(attempt) };
}
