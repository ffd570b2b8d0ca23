/**
 * The bus of a shop without a transporter: in the process, with the same contract as
 * JetStream (one delivery per group, retries that outlast outages, dead letters that can
 * be replayed; events for a group whose members are all stopped wait for the next one),
 * but kept in memory: events not yet handled when the process stops are lost. Brokers of
 * one namespace in one process (the Fake transporter of the tests) share one bus.
 */
import type { BusinessEvent } from "../events";
import { afterFailure, type DeadLetter, type DeliveryPolicy, type EventBus, type EventHandler } from "./bus";

type Group = { members: EventHandler[]; next: number; waiting: BusinessEvent[] };

class LocalBus implements EventBus {
	/** type -> group -> members */
	private readonly groups = new Map<string, Map<string, Group>>();
	private readonly dead = new Map<string, DeadLetter>();
	private deadSeq = 0;

	constructor(
		private readonly policy: DeliveryPolicy,
		private readonly onDeadLetter: (letter: DeadLetter, err: unknown) => void,
	) {}

	async publish(event: BusinessEvent): Promise<void> {
		for (const [name, group] of this.groups.get(event.type) ?? []) setImmediate(() => void this.deliver(name, group, event, 1));
	}

	private async deliver(name: string, group: Group, event: BusinessEvent, attempt: number): Promise<void> {
		if (group.members.length === 0) {
			group.waiting.push(event);
			return;
		}
		const handler = group.members[group.next++ % group.members.length];
		try {
			await handler(event);
		} catch (err) {
			const next = afterFailure(this.policy, err, attempt);
			if (next === "dead-letter") {
				const letter = { id: String(++this.deadSeq), group: name, event, error: String(err), failedAt: new Date().toISOString(), deliveries: attempt };
				this.dead.set(letter.id, letter);
				this.onDeadLetter(letter, err);
				return;
			}
			setTimeout(() => void this.deliver(name, group, event, attempt + 1), next.retryInMs).unref();
		}
	}

	async subscribe(groupName: string, type: string, handler: EventHandler): Promise<() => Promise<void>> {
		const byGroup = this.groups.get(type) ?? new Map<string, Group>();
		this.groups.set(type, byGroup);
		const group = byGroup.get(groupName) ?? { members: [], next: 0, waiting: [] };
		byGroup.set(groupName, group);
		group.members.push(handler);
		for (const event of group.waiting.splice(0)) setImmediate(() => void this.deliver(groupName, group, event, 1));
		return async () => {
			group.members.splice(group.members.indexOf(handler), 1);
		};
	}

	async deadLetters(limit: number): Promise<DeadLetter[]> {
		return [...this.dead.values()].slice(0, limit);
	}

	async replay(deadLetterId: string): Promise<boolean> {
		const letter = this.dead.get(deadLetterId);
		if (!letter) return false;
		this.dead.delete(deadLetterId);
		await this.publish(letter.event);
		return true;
	}

	async close(): Promise<void> {}
}

const buses = new Map<string, LocalBus>();

export function localBus(namespace: string, policy: DeliveryPolicy, onDeadLetter: (letter: DeadLetter, err: unknown) => void): EventBus {
	let bus = buses.get(namespace);
	if (!bus) {
		bus = new LocalBus(policy, onDeadLetter);
		buses.set(namespace, bus);
	}
	return bus;
}
