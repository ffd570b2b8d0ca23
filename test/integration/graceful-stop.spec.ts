/**
 * A stopping gateway says so before it closes: /ready answers 503 as soon as its broker
 * begins to stop, so that an orchestrator's readiness probe takes it out of the load balancer.
 */
import { freshNamespace, gatewayUrl, startNode, waitFor } from "../helpers/cluster";

it("answers /ready with 503 once its broker is stopping, while it still serves", async () => {
	const broker = await startNode({ nodeID: "stopping", namespace: freshNamespace(), services: ["api", "users"] });
	const url = gatewayUrl(broker);
	await waitFor(async () => ((await fetch(`${url}/ready`)).status === 200 ? true : undefined), "the gateway to be ready");

	const stopping = broker.stop();
	const res = await fetch(`${url}/ready`);
	expect(res.status).toBe(503);
	expect(await res.json()).toMatchObject({ status: "not ready" });
	await stopping;
});
