/**
 * The bus of a shop without a transporter: in the process, with the same contract as
 * JetStream (one delivery per group, retries that outlast outages, dead letters that can
 * be replayed; events for a group whose members are all stopped wait for the next one).
 * It keeps no events on disk, so the outbox keeps each event for it: `publish` answers only
 * once every group has handled the event (or given up on it), and until then the event
 * stays owed in the document that recorded it, to be relayed again after a crash. What a
 * group gave up on is then owed by the bus: a dead letter is stored (the `dead_letters`
 * collection, on the shop's store) before `publish` answers, and a replayed one stays
 * stored until its new delivery is over. Brokers of one namespace in one process (the Fake
 * transporter of the tests) share one bus.
 */
import { newEventId, type BusinessEvent } from "../events";
import { openCollection, type Collection } from "../storage/collection";
import { afterFailure, type DeadLetter, type DeliveryPolicy, type EventBus, type EventHandler } from "./bus";

/** A dead letter as stored: one per group and event (`<group>:<event id>`), its latest failure (`failure`: that failure's own id). */
type StoredLetter = Omit<DeadLetter, "id"> & { _id: string; failure: string };

const letterOf = ({ _id, failure: _failure, ...letter }: StoredLetter): DeadLetter => ({ id: _id, ...letter });

/** `waiting`: the deliveries that wait for a member of the group, each to go on once one subscribes. */
type Group = { members: EventHandler[]; next: number; waiting: (() => void)[] };

class LocalBus implements EventBus {
	/** type -> group -> members */
	private readonly groups = new Map<string, Map<string, Group>>();
	/** The brokers that opened this bus and have not closed it. */
	users = 0;

	constructor(
		private readonly policy: DeliveryPolicy,
		private readonly onDeadLetter: (letter: DeadLetter, err: unknown) => void,
		private readonly letters: Collection<StoredLetter>,
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
					this.onDeadLetter(await this.storeLetter(name, event, err, attempt), err);
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

	/**
	 * Stores the dead letter of `event` in `group` before the publish that delivered it
	 * answers (the outbox lets go of the event then; a store that fails makes the publish
	 * fail, and the event stays owed). A new failure of a replayed event replaces the one before.
	 */
	private async storeLetter(group: string, event: BusinessEvent, err: unknown, deliveries: number): Promise<DeadLetter> {
		const failedAt = new Date().toISOString();
		const letter: StoredLetter = { _id: `${group}:${event.id}`, group, event, error: String(err), failedAt, deliveries, failure: newEventId() };
		const { _id, ...latest } = letter;
		// Inserted, or else updated; a replay that removes the letter in between makes it an insert again.
		while (!(await this.letters.insertIfNew(letter)) && !(await this.letters.updateOne({ _id }, { $set: latest })));
		return letterOf(letter);
	}

	async deadLetters(limit: number): Promise<DeadLetter[]> {
		return (await this.letters.find({}, { sort: { failedAt: 1 }, limit })).map(letterOf);
	}

	async replay(deadLetterId: string): Promise<boolean> {
		const stored = await this.letters.byId(deadLetterId);
		if (!stored) return false;
		// In the background: the replay is asked for, not waited on (the event may fail again, and be retried for long).
		// The dead letter goes once every group has the event, unless it failed again meanwhile (another failure).
		void this.publish(stored.event)
			.then(() => this.letters.removeOne({ _id: stored._id, failure: stored.failure }))
			.catch(() => undefined);
		return true;
	}

	async close(): Promise<void> {
		this.users -= 1;
		if (this.users > 0) return;
		for (const [namespace, bus] of buses) if (bus === this) buses.delete(namespace);
		await this.letters.close();
	}
}

const buses = new Map<string, LocalBus>();

/** Where the in-process bus keeps dead letters, on the shop's store (a SQLite file in DATA_DIR embedded). */
const DEAD_LETTERS = { name: "dead_letters", indexes: ["failedAt"] };

/** The bus of `namespace` in this process, opened by each broker that uses it and closed by each (`close`). */
export function localBus(namespace: string, policy: DeliveryPolicy, onDeadLetter: (letter: DeadLetter, err: unknown) => void): EventBus {
	let bus = buses.get(namespace);
	if (!bus) {
		bus = new LocalBus(policy, onDeadLetter, openCollection<StoredLetter>(DEAD_LETTERS));
		buses.set(namespace, bus);
	}
	bus.users += 1;
	return bus;
}
