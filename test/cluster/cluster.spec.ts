/**
 * The compose services as separate processes over NATS, MongoDB (wire protocol) and Redis:
 * the REST flow across processes, balancing, failover, graceful stop, the shared cache and
 * persistence across restarts.
 */
import { TEST_OVERRIDES, type ComposeCluster, type Instance } from "./compose-cluster";
import { sleep, startCluster, steadyLoad, waitForInstances as waitForInstancesOf } from "./running-cluster";
import { waitFor } from "../helpers/cluster";
import { client, newCustomer, type Client } from "../helpers/http";

const SCALE = { api: 2, users: 2, discovery: 3 };
// Moleculer looks for silent nodes once per heartbeat timeout, so a dead node goes
// between 1 and 2 timeouts after its last heartbeat, which came at most one interval
// before it died.
const HEARTBEAT_INTERVAL_S = Number(TEST_OVERRIDES.HEARTBEAT_INTERVAL);
const HEARTBEAT_TIMEOUT_S = Number(TEST_OVERRIDES.HEARTBEAT_TIMEOUT);
const DROP_DEADLINE_MS = (2 * HEARTBEAT_TIMEOUT_S + HEARTBEAT_INTERVAL_S + 1) * 1000;

let cluster: ComposeCluster;
let api: Client;
let adminToken: string;

const waitForInstances = (expected: Record<string, number>) => waitForInstancesOf(api, adminToken, expected);
const status = (request: Promise<{ status: number }>) => request.then(r => r.status).catch(() => -1);

/** Which discovery node answered: the one that lists itself as local. */
async function answeringDiscoveryNode(): Promise<string> {
	const res = await api.get("/api/discovery/nodes", { token: adminToken });
	if (res.status !== 200) throw new Error(`discovery answered ${res.status}`);
	return (res.body as { id: string; local: boolean }[]).find(n => n.local)!.id;
}

jest.setTimeout(180_000);

beforeAll(async () => {
	({ cluster, api, adminToken } = await startCluster(SCALE));
}, 180_000);

afterAll(async () => {
	await cluster?.stopAll();
});

it("serves register, login and me across processes, through every gateway instance", async () => {
	const gateways = cluster.apiUrls().map(client);
	expect(gateways).toHaveLength(2);
	const { token, user, password } = await newCustomer(gateways[0], "Nia");
	const login = await gateways[1].post("/api/auth/login", { email: user.email, password });
	expect(login.status).toBe(200);
	for (const gateway of gateways) {
		const me = await gateway.get("/api/users/me", { token });
		expect(me.status).toBe(200);
		expect(me.body).toMatchObject({ id: user.id, email: user.email, name: "Nia" });
	}
	expect((await gateways[1].post("/api/auth/register", { email: user.email, password, name: "Again" })).status).toBe(409);
});

it("balances 300 requests over 3 instances, none with less than 20%", async () => {
	const counts: Record<string, number> = {};
	for (let i = 0; i < 300; i++) {
		const node = await answeringDiscoveryNode();
		counts[node] = (counts[node] ?? 0) + 1;
	}
	expect(Object.keys(counts).sort()).toEqual(
		cluster
			.of("discovery")
			.map(i => i.nodeID)
			.sort(),
	);
	for (const n of Object.values(counts)) expect(n).toBeGreaterThanOrEqual(60);
});

it("loses no request when an instance is killed with SIGKILL, drops it from discovery, and uses its replacement", async () => {
	const victim = cluster.of("discovery")[0];
	const killAndWait = (async () => {
		await sleep(1000);
		const killedAt = Date.now();
		await cluster.stop(victim, "SIGKILL");
		// Keep the load on until the registry has dropped the dead node.
		const droppedAt = await waitFor(
			async () => {
				const res = await api.get("/api/discovery/nodes", { token: adminToken });
				const entry = (res.body as { id: string; available: boolean }[]).find(n => n.id === victim.nodeID);
				return entry && !entry.available ? Date.now() : undefined;
			},
			"the killed node to be dropped",
			30_000,
		);
		await sleep(500);
		return droppedAt - killedAt;
	})();
	const statuses = await steadyLoad(4, () => status(api.get("/api/discovery/services", { token: adminToken })), killAndWait);
	const droppedAfterMs = await killAndWait;

	expect(statuses.length).toBeGreaterThan(20);
	expect(statuses.filter(s => s !== 200)).toEqual([]);
	expect(droppedAfterMs).toBeLessThan(DROP_DEADLINE_MS);

	const replacement = await cluster.startInstance("discovery");
	await waitForInstances({ discovery: 3 });
	// The gateway learns of the new node from its INFO packet, a moment after the others may.
	await waitFor(async () => ((await answeringDiscoveryNode()) === replacement.nodeID ? true : undefined), "traffic to the replacement", 10_000);
	let answeredByReplacement = 0;
	for (let i = 0; i < 30; i++) if ((await answeringDiscoveryNode()) === replacement.nodeID) answeredByReplacement++;
	expect(answeredByReplacement).toBeGreaterThanOrEqual(6);
});

it("finishes in-flight requests when an instance stops with SIGTERM", async () => {
	const { token } = await newCustomer(api);
	const victim: Instance = cluster.of("users")[0];
	const stopping = (async () => {
		await sleep(1000);
		await cluster.stop(victim, "SIGTERM");
		await sleep(500);
	})();
	const statuses = await steadyLoad(8, () => status(api.get("/api/users/me", { token })), stopping);
	await stopping;

	expect(victim.child.exitCode).toBe(0);
	expect(statuses.length).toBeGreaterThan(20);
	expect(statuses.filter(s => s !== 200)).toEqual([]);

	await cluster.startInstance("users");
	await waitForInstances({ users: 2 });
});

it("shows an update made through one instance at once through the other (shared Redis cache)", async () => {
	const { token, user } = await newCustomer(api, "Before");
	// Fill the cache of users.get, answered by either instance.
	for (let i = 0; i < 2; i++) expect((await api.get(`/api/users/${user.id}`, { token: adminToken })).body.name).toBe("Before");

	expect((await api.patch("/api/users/me", { name: "After" }, { token })).status).toBe(200);
	for (let i = 0; i < 4; i++) {
		const res = await api.get(`/api/users/${user.id}`, { token: adminToken });
		expect(res.body.name).toBe("After");
	}
});

it("keeps accounts when every service process stops and starts again", async () => {
	const { user, password } = await newCustomer(api, "Durable");
	await cluster.stopAll();
	for (const [name, n] of Object.entries(SCALE)) for (let i = 0; i < n; i++) await cluster.startInstance(name);
	api = client(cluster.apiUrls()[0]);

	const login = await waitFor(
		async () => {
			const res = await api.post("/api/auth/login", { email: user.email, password }).catch(() => null);
			return res && res.status !== 503 && res.status !== 404 ? res : undefined;
		},
		"the restarted cluster",
		90_000,
	);
	expect(login.status).toBe(200);
	expect(login.body.user).toMatchObject({ id: user.id, name: "Durable" });
});
