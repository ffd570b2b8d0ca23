import { readiness, type BrokerState } from "../../src/health/readiness";

const started: BrokerState = { started: true, stopping: false, transit: { connected: true }, services: [] };

describe("readiness of a node", () => {
	it("is ready when the broker started and every store and bus is connected", async () => {
		const state: BrokerState = {
			...started,
			services: [
				{ name: "orders", adapter: { conn: { readyState: 1 } }, eventBus: Promise.resolve({}) },
				{ name: "catalog", adapter: {} },
				{ name: "discovery" },
			],
		};
		expect(await readiness(state)).toEqual({
			ready: true,
			checks: { broker: true, transporter: true, "store:orders": true, "events:orders": true, "store:catalog": true },
		});
	});

	it("is not ready before the broker started, or while it stops", async () => {
		expect((await readiness({ ...started, started: false })).ready).toBe(false);
		expect((await readiness({ ...started, stopping: true })).checks.broker).toBe(false);
	});

	it("is not ready while the transporter or a MongoDB connection is down", async () => {
		expect((await readiness({ ...started, transit: { connected: false } })).checks.transporter).toBe(false);
		const disconnected = await readiness({ ...started, services: [{ name: "users", adapter: { conn: { readyState: 0 } } }] });
		expect(disconnected).toEqual({ ready: false, checks: { broker: true, transporter: true, "store:users": false } });
	});

	it("is not ready while the event bus failed to open or is still connecting", async () => {
		const failed = Promise.reject(new Error("NATS is down"));
		failed.catch(() => undefined);
		const connecting = new Promise(() => undefined);
		const { checks } = await readiness(
			{
				...started,
				services: [
					{ name: "a", eventBus: failed },
					{ name: "b", eventBus: connecting },
				],
			},
			20,
		);
		expect(checks).toMatchObject({ "events:a": false, "events:b": false });
	});

	it("has no transporter check on a node without a transporter", async () => {
		expect((await readiness({ started: true, services: [] })).checks).toEqual({ broker: true });
	});
});
