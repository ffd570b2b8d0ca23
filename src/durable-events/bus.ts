/**
 * What the durable-events mixin needs from a message bus: publish an event, and consume
 * one event type as a group (every service is one group; its instances share the work).
 */
import type { BusinessEvent } from "../events";

export type EventHandler = (event: BusinessEvent) => Promise<void>;

export interface EventBus {
	publish(event: BusinessEvent): Promise<void>;
	/** Delivers each event of `type` to one member of `group`, again later if the handler throws. */
	subscribe(group: string, type: string, handler: EventHandler): Promise<() => Promise<void>>;
	close(): Promise<void>;
}

export type DeliveryPolicy = {
	/** Deliveries of one event to one group before it is dead-lettered. */
	maxDeliver: number;
	/** Delay before the next delivery of an event whose handler threw, by attempt number (1, 2, ...). */
	retryDelayMs(attempt: number): number;
};

export const defaultRetryDelay = (attempt: number): number => Math.min(100 * 2 ** (attempt - 1), 5000);
