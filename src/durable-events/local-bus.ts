/**
 * The bus of a shop without a transporter: in the process, with the same contract as
 * JetStream (one delivery per group, retries, dead letters), but kept in memory: events
 * not yet handled when the process stops are lost. Brokers of one namespace in one
 * process (the Fake transporter of the tests) share one bus.
 */
import type { BusinessEvent } from "../events";
import type { DeliveryPolicy, EventBus, EventHandler } from "./bus";

type Group = { members: EventHandler[]; next: number };

class LocalBus implements EventBus {
	/** type -> group -> members */
	private readonly groups = new Map<string, Map<string, Group>>();
	readonly deadLetters: { group: string; event: BusinessEvent; error: string }[] = [];

	constructor(
		private readonly policy: DeliveryPolicy,
		private readonly onDeadLetter: (group: string, event: BusinessEvent, err: unknown) => void,
	) {}

	async publish(event: BusinessEvent): Promise<void> {
		for (const [name, group] of this.groups.get(event.type) ?? []) {
			setImmediate(() => void this.deliver(name, group, event, 1));
		}
	}

	private async deliver(name: string, group: Group, event: BusinessEvent, attempt: number): Promise<void> {
		if (group.members.length === 0) return;
		const handler = group.members[group.next++ % group.members.length];
		try {
			await handler(event);
		} catch (err) {
			if (attempt >= this.policy.maxDeliver) {
				this.deadLetters.push({ group: name, event, error: String(err) });
				this.onDeadLetter(name, event, err);
				return;
			}
			setTimeout(() => void this.deliver(name, group, event, attempt + 1), this.policy.retryDelayMs(attempt));
		}
	}

	async subscribe(groupName: string, type: string, handler: EventHandler): Promise<() => Promise<void>> {
		const byGroup = this.groups.get(type) ?? new Map<string, Group>();
		this.groups.set(type, byGroup);
		const group = byGroup.get(groupName) ?? { members: [], next: 0 };
		byGroup.set(groupName, group);
		group.members.push(handler);
		return async () => {
			group.members.splice(group.members.indexOf(handler), 1);
		};
	}

	async close(): Promise<void> {}
}

const buses = new Map<string, LocalBus>();

export function localBus(namespace: string, policy: DeliveryPolicy, onDeadLetter: (group: string, event: BusinessEvent, err: unknown) => void): EventBus {
	let bus = buses.get(namespace);
	if (!bus) {
		bus = new LocalBus(policy, onDeadLetter);
		buses.set(namespace, bus);
	}
	return bus;
}
