/** The request ID of an action reaches the log lines written while handling it, also in nested calls. */
import { ServiceBroker } from "moleculer";
import { RequestContextMiddleware, currentRequestID } from "../../src/request-context";

let broker: ServiceBroker;

beforeAll(async () => {
	broker = new ServiceBroker({ logger: false, middlewares: [RequestContextMiddleware] });
	broker.createService({
		name: "probe",
		actions: {
			outer: ctx => ctx.call("probe.inner"),
			async inner() {
				await new Promise(resolve => setTimeout(resolve, 5));
				return currentRequestID() ?? null;
			},
		},
	});
	await broker.start();
});
afterAll(() => broker.stop());

it("knows the request ID given by the caller, through nested calls and awaits", async () => {
	expect(await broker.call("probe.outer", {}, { requestID: "req-42" })).toBe("req-42");
});

it("has none for a call that no request started", async () => {
	expect(await broker.call("probe.inner")).toBeNull();
});
