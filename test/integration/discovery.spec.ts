/** Several nodes over the Fake transporter: discovery counts their instances as they come and go. */
import type { ServiceBroker } from "moleculer";
import { freshNamespace, gatewayUrl, startNode, waitFor } from "../helpers/cluster";
import { adminToken, client, newCustomer, type Client } from "../helpers/http";
import type { NodeView } from "../../src/discovery/registry-view";

const namespace = freshNamespace();
let gateway: ServiceBroker;
const extra: ServiceBroker[] = [];
let api: Client;
let token: string;
/** A customer whose token the gateway has not seen. */
let stranger: { token: string };

async function instancesOf(name: string): Promise<number> {
	const res = await api.get("/api/discovery/services", { token });
	const entry = (res.body as { name: string; instances: number }[]).find(s => s.name === name);
	return entry?.instances ?? 0;
}

beforeAll(async () => {
	gateway = await startNode({ nodeID: "gateway", namespace, services: ["api"], networked: true });
	extra.push(await startNode({ nodeID: "users-1", namespace, services: ["users"], networked: true }));
	extra.push(await startNode({ nodeID: "discovery-1", namespace, services: ["discovery"], networked: true }));
	extra.push(await startNode({ nodeID: "commerce-1", namespace, services: ["catalog", "payments", "orders", "notifications", "analytics"], networked: true }));
	api = client(gatewayUrl(gateway));
	token = await waitFor(() => adminToken(api).catch(() => undefined), "the users service");
	// Registered early: a user's change (the relay of user.registered too) empties the gateway's accounts.
	stranger = await newCustomer(api);
	await waitFor(async () => ((await api.get("/api/discovery/health")).status === 200 ? true : undefined), "the discovery routes");
});
afterAll(() => Promise.all([gateway, ...extra].map(b => b.stop())));

it("reports every node with its services, and healthy when every expected service runs", async () => {
	const nodes = await api.get("/api/discovery/nodes", { token });
	expect(nodes.status).toBe(200);
	const byId = Object.fromEntries((nodes.body as NodeView[]).map(n => [n.id, n]));
	expect(byId["gateway"]).toMatchObject({ available: true, local: false, services: ["api"] });
	expect(byId["users-1"]).toMatchObject({ available: true, local: false, services: ["users"] });
	expect(byId["discovery-1"]).toMatchObject({ available: true, local: true, services: ["discovery"] });
	expect(byId["users-1"].lastHeartbeat).toEqual(expect.any(String));
	expect(byId["users-1"].uptime).toBeGreaterThanOrEqual(0);

	const health = await api.get("/api/discovery/health");
	expect(health.status).toBe(200);
	expect(health.body).toMatchObject({ status: "healthy", missing: [] });
});

it("counts two more instances of a service, then drops them when their nodes stop", async () => {
	const added = [
		await startNode({ nodeID: "discovery-2", namespace, services: ["discovery"], networked: true }),
		await startNode({ nodeID: "discovery-3", namespace, services: ["discovery"], networked: true }),
	];
	await waitFor(async () => ((await instancesOf("discovery")) === 3 ? true : undefined), "3 discovery instances");

	const detail = await api.get("/api/discovery/services/users", { token });
	expect(detail.status).toBe(200);
	expect(detail.body).toMatchObject({ name: "users", instances: 1, nodes: ["users-1"] });
	expect(detail.body.actions.map((a: { name: string }) => a.name)).toEqual(expect.arrayContaining(["users.login", "users.me"]));
	expect(JSON.stringify(detail.body)).not.toMatch(/settings|secret/i);

	await Promise.all(added.map(b => b.stop()));
	await waitFor(async () => ((await instancesOf("discovery")) === 1 ? true : undefined), "1 discovery instance");

	const history = await api.get("/api/discovery/history", { token });
	const changes = (history.body as { nodeID: string; change: string }[]).map(h => `${h.nodeID} ${h.change}`);
	expect(changes).toEqual(expect.arrayContaining(["discovery-2 joined", "discovery-3 joined", "discovery-2 left", "discovery-3 left"]));
});

it("reports degraded health (503) naming the missing service when its last instance stops", async () => {
	// The gateway reads (and keeps) the admin's account.
	expect((await api.get("/api/discovery/services/users", { token })).status).toBe(200);
	const users = extra.find(b => b.nodeID === "users-1")!;
	await users.stop();
	const health = await waitFor(async () => {
		const res = await api.get("/api/discovery/health");
		return res.status === 503 ? res : undefined;
	}, "degraded health");
	expect(health.body).toMatchObject({ status: "degraded", missing: ["users"] });
	// The gateway checks tokens itself and knows the admin's account: the call is answered (users is gone from the registry).
	const signedIn = await api.get("/api/discovery/services/users", { token });
	expect(signedIn.status).toBe(404);
	// An account it has not read cannot be checked without users: come back, rather than "no such route".
	const unseen = await api.get("/api/discovery/services/users", { token: stranger.token });
	expect(unseen.status).toBe(503);
	expect(unseen.body.type).toBe("SERVICE_UNAVAILABLE");
});
