/**
 * The bus of a shop without a transporter: in the process, with the same contract as
 * JetStream (one delivery per group, retries that outlast outages, dead letters that can
 * be replayed; events for a group whose members are all stopped wait for the next one).
 * It keeps nothing on disk, so the outbox keeps each event for it: `publish` answers only
 * once every group has handled the event (or given up on it), and until then the event
 * stays owed in the document that recorded it, to be relayed again after a crash. Dead
 * letters live in memory. Brokers of one namespace in one process (the Fake transporter of
 * the tests) share one bus.
 */
import type { BusinessEvent } from "../events";
import { afterFailure, type DeadLetter, type DeliveryPolicy, type EventBus, type EventHandler } from "./bus";

/** `waiting`: the deliveries that wait for a member of the group, each to go on once one subscribes. */
type Group = { members: EventHandler[]; next: number; waiting: (() => void)[] };

class LocalBus implements EventBus {
	/** type -> group -> members */
	private readonly groups = new Map<string, Map<string, Group>>();
	private readonly dead = new Map<string, DeadLetter>();
	private deadSeq = 0;

	constructor(
		private readonly policy: DeliveryPolicy,
		private readonly onDeadLetter: (letter: DeadLetter, err: unknown) => void,
	) {}

	readonly storesEvents = false;

	/** Answers once every group that listens to the event's type has handled it or dead-lettered it. */
	async publish(event: BusinessEvent): Promise<void> {
		await Promise.all([...(this.groups.get(event.type) ?? [])].map(([name, group]) => this.deliver(name, group, event)));
	}

	/** Delivers `event` to one member of `group`, again after a failure, until it is handled or dead-lettered. */
	private async deliver(name: string, group: Group, event: BusinessEvent): Promise<void> {
		for (let attempt = 1; ; attempt += 1) {
			while (group.members.length === 0) await new Promise<void>(resume => group.waiting.push(resume));
			const handler = group.members[group.next++ % group.members.length];
			try {
				await handler(event);
				return;
			} catch (err) {
				const next = afterFailure(this.policy, err, attempt);
				if (next === "dead-letter") {
					const letter = { id: String(++this.deadSeq), group: name, event, error: String(err), failedAt: new Date().toISOString(), deliveries: attempt };
					this.dead.set(letter.id, letter);
					this.onDeadLetter(letter, err);
					return;
				}
				await new Promise(resolve => setTimeout(resolve, next.retryInMs).unref());
			}
		}
	}

	async subscribe(groupName: string, type: string, handler: EventHandler): Promise<() => Promise<void>> {
		const byGroup = this.groups.get(type) ?? new Map<string, Group>();
		this.groups.set(type, byGroup);
		const group = byGroup.get(groupName) ?? { members: [], next: 0, waiting: [] };
		byGroup.set(groupName, group);
		group.members.push(handler);
		for (const resume of group.waiting.splice(0)) resume();
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
		// In the background: the replay is asked for, not waited on (the event may fail again, and be retried for long).
		void this.publish(letter.event);
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
