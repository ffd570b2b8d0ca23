/** The in-process event bus keeps the delivery contract of JetStream: once per group, retries, dead letters. */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Errors } from "moleculer";
import { afterFailure, backoff, waitedBefore } from "../../src/durable-events/bus";
import { localBus } from "../../src/durable-events/local-bus";
import { businessEvent, type BusinessEvent } from "../../src/events";
import { waitFor } from "../helpers/cluster";

let seq = 0;
const policy = { maxDeliver: 3, giveUpAfterMs: 0, retryDelayMs: () => 5 };
const fresh = (onDead: (group: string) => void = () => undefined) => localBus(`unit-${++seq}`, policy, letter => onDead(letter.group));

it("delivers an event once to each group, sharing it between a group's members", async () => {
	const bus = fresh();
	const got: string[] = [];
	await bus.subscribe("notifications", "order.paid", async () => void got.push("notifications-1"));
	await bus.subscribe("notifications", "order.paid", async () => void got.push("notifications-2"));
	await bus.subscribe("analytics", "order.paid", async () => void got.push("analytics"));
	await bus.subscribe("analytics", "order.cancelled", async () => void got.push("wrong type"));

	await bus.publish(businessEvent("order.paid", {}) as BusinessEvent);
	await bus.publish(businessEvent("order.paid", {}) as BusinessEvent);
	await waitFor(() => (got.length === 4 ? true : undefined), "4 deliveries");
	expect(got.sort()).toEqual(["analytics", "analytics", "notifications-1", "notifications-2"]);
});

it("delivers again after a handler throws, and dead-letters after the last try", async () => {
	const dead: string[] = [];
	const bus = fresh(group => dead.push(group));
	let attempts = 0;
	await bus.subscribe("flaky", "user.registered", async () => {
		attempts += 1;
		if (attempts < 2) throw new Error("database is down");
	});
	let failures = 0;
	await bus.subscribe("broken", "user.registered", async () => {
		failures += 1;
		throw new Error("always");
	});

	await bus.publish(businessEvent("user.registered", {}) as BusinessEvent);
	await waitFor(() => (attempts === 2 && dead.length === 1 ? true : undefined), "a retry and a dead letter");
	expect(failures).toBe(3);
	expect(dead).toEqual(["broken"]);
});

it("never dead-letters an event whose handler fails because a dependency is unavailable", async () => {
	const dead: string[] = [];
	const bus = fresh(group => dead.push(group));
	let attempts = 0;
	await bus.subscribe("patient", "order.paid", async () => {
		attempts += 1;
		if (attempts < 6) throw new Errors.ServiceNotAvailableError({ action: "users.get", nodeID: "n1" });
	});
	await bus.publish(businessEvent("order.paid", {}) as BusinessEvent);
	await waitFor(() => (attempts === 6 ? true : undefined), "six deliveries");
	expect(dead).toEqual([]);
});

it("lists dead letters and replays one: the group that gave up gets the event again, and the dead letter is gone", async () => {
	const bus = fresh();
	let fixed = false;
	const handled: string[] = [];
	await bus.subscribe("fragile", "order.paid", async event => {
		if (!fixed) throw new Error("a bug");
		handled.push(event.id);
	});
	const event = businessEvent("order.paid", { orderId: "o1" }) as BusinessEvent;
	await bus.publish(event);
	const [letter] = await waitFor(async () => ((await bus.deadLetters(10)).length ? bus.deadLetters(10) : undefined), "a dead letter");
	expect(letter).toMatchObject({ group: "fragile", event: { id: event.id }, error: expect.stringContaining("a bug"), deliveries: 3 });

	fixed = true;
	expect(await bus.replay(letter.id)).toBe(true);
	await waitFor(() => (handled.length ? true : undefined), "the replayed event");
	expect(handled).toEqual([event.id]);
	await waitFor(async () => ((await bus.deadLetters(10)).length === 0 ? true : undefined), "the dead letter gone");
	expect(await bus.replay(letter.id)).toBe(false);
});

it("keeps a replayed dead letter until its new delivery is over, and its latest failure when it fails again", async () => {
	const bus = fresh();
	let failures = 0;
	await bus.subscribe("fragile", "order.paid", async () => {
		failures += 1;
		throw new Error(`failure ${failures}`);
	});
	await bus.publish(businessEvent("order.paid", {}) as BusinessEvent);
	const [letter] = await bus.deadLetters(10);
	expect(letter.error).toContain("failure 3");
	expect(await bus.replay(letter.id)).toBe(true);
	await waitFor(() => (failures === 6 ? true : undefined), "the replay's three deliveries");
	await new Promise(resolve => setTimeout(resolve, 50));
	expect(await bus.deadLetters(10)).toEqual([expect.objectContaining({ id: letter.id, error: expect.stringContaining("failure 6") })]);
});

it("keeps dead letters on the shop's store: a restart finds them, and can replay them", async () => {
	const dataDir = mkdtempSync(path.join(os.tmpdir(), "local-bus-"));
	/** The bus module as a new process loads it, with the shop's data in `dataDir`. */
	const restarted = () => {
		let load!: typeof localBus;
		jest.isolateModules(() => (load = jest.requireActual<typeof import("../../src/durable-events/local-bus")>("../../src/durable-events/local-bus").localBus));
		return load("restart", policy, () => undefined);
	};
	const before = process.env.DATA_DIR;
	process.env.DATA_DIR = dataDir;
	try {
		const first = restarted();
		await first.subscribe("fragile", "order.paid", async () => {
			throw new Error("a bug");
		});
		const event = businessEvent("order.paid", { orderId: "o1" }) as BusinessEvent;
		// The publish answers once the group gave up and the dead letter is stored: the outbox lets go of the event then.
		await first.publish(event);
		await first.close();

		const again = restarted();
		const [letter] = await again.deadLetters(10);
		expect(letter).toMatchObject({ group: "fragile", event: { id: event.id }, error: expect.stringContaining("a bug") });
		const handled: string[] = [];
		await again.subscribe("fragile", "order.paid", async replayed => void handled.push(replayed.id));
		expect(await again.replay(letter.id)).toBe(true);
		await waitFor(() => (handled.length ? true : undefined), "the replayed event");
		expect(handled).toEqual([event.id]);
		await waitFor(async () => ((await again.deadLetters(10)).length === 0 ? true : undefined), "the dead letter gone");
		await again.close();
	} finally {
		if (before === undefined) delete process.env.DATA_DIR;
		else process.env.DATA_DIR = before;
		rmSync(dataDir, { recursive: true, force: true });
	}
});

it("keeps an event for a group whose members are all stopped, and delivers it to the next one; the publish answers then", async () => {
	const bus = fresh();
	const got: string[] = [];
	const unsubscribe = await bus.subscribe("sleepy", "order.paid", async () => void got.push("first"));
	await unsubscribe();
	let published = false;
	const publishing = bus.publish(businessEvent("order.paid", {}) as BusinessEvent).then(() => (published = true));
	await new Promise(resolve => setTimeout(resolve, 20));
	expect({ got, published }).toEqual({ got: [], published: false });
	await bus.subscribe("sleepy", "order.paid", async () => void got.push("second"));
	await publishing;
	expect(got).toEqual(["second"]);
});

it("answers a publish only once every group has handled the event or dead-lettered it: until then its outbox keeps it", async () => {
	const dead: string[] = [];
	const bus = fresh(group => dead.push(group));
	expect(bus.storesEvents).toBe(false);
	let failures = 0;
	const handled: string[] = [];
	await bus.subscribe("flaky", "order.paid", async () => {
		failures += 1;
		if (failures < 3) throw new Error("the database is busy");
		handled.push("flaky");
	});
	await bus.subscribe("slow", "order.paid", async () => {
		await new Promise(resolve => setTimeout(resolve, 30));
		handled.push("slow");
	});
	await bus.subscribe("broken", "order.paid", async () => {
		throw new Error("a bug");
	});
	let published = false;
	const publishing = bus.publish(businessEvent("order.paid", {}) as BusinessEvent).then(() => (published = true));
	await waitFor(() => (failures >= 1 ? true : undefined), "a first failure");
	expect(published).toBe(false);
	await publishing;
	expect({ handled: handled.sort(), dead }).toEqual({ handled: ["flaky", "slow"], dead: ["broken"] });
});

it("dead-letters only after the retries have lasted EVENTS_GIVE_UP_AFTER_MS, counted from the schedule", () => {
	const hourly = { maxDeliver: 3, giveUpAfterMs: 60 * 60 * 1000, retryDelayMs: backoff(1000, 5 * 60 * 1000) };
	const bug = new Error("a bug");
	expect(afterFailure(hourly, bug, 3)).toEqual({ retryInMs: 4000 });
	const enough = Array.from({ length: 40 }, (_, i) => i + 1).find(attempt => waitedBefore(hourly, attempt) >= hourly.giveUpAfterMs)!;
	expect(afterFailure(hourly, bug, enough - 1)).not.toBe("dead-letter");
	expect(afterFailure(hourly, bug, enough)).toBe("dead-letter");
	expect(afterFailure(hourly, new Errors.RequestTimeoutError({ action: "users.get", nodeID: "n1" }), 1000)).toEqual({ retryInMs: 5 * 60 * 1000 });
});
