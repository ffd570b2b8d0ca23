/**
 * Business events: `{ id, type, at, data }`, where `id` is unique so that consumers can
 * drop a second delivery of the same event.
 */
import { randomUUID } from "node:crypto";

export type BusinessEvent<T = Record<string, unknown>> = { id: string; type: string; at: string; data: T };

export function businessEvent<T>(type: string, data: T): BusinessEvent<T> {
	return { id: randomUUID(), type, at: new Date().toISOString(), data };
}
