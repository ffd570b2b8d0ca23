import { MembershipHistory, clusterHealth, nodeView, serviceSummaries, type RegistryNode } from "../../src/discovery/registry-view";

const node: RegistryNode = {
	id: "n1",
	available: true,
	local: false,
	hostname: "box",
	ipList: ["10.0.0.5"],
	lastHeartbeatTime: 95,
	metadata: { startedAt: "2026-01-01T00:00:00.000Z" },
	client: { type: "nodejs", version: "0.15.2" },
	cpu: 12,
	services: [{ name: "$node" }, { name: "users" }],
};

it("turns registry times into a wall-clock heartbeat and an uptime", () => {
	const now = Date.parse("2026-01-01T00:10:00.000Z");
	const view = nodeView(node, { now, processUptime: 100 });
	expect(view.lastHeartbeat).toBe("2026-01-01T00:09:55.000Z");
	expect(view.uptime).toBe(600);
	expect(view.services).toEqual(["users"]);
	expect(view.addresses).toEqual(["10.0.0.5"]);
});

it("counts instances per service across nodes", () => {
	const summaries = serviceSummaries([
		{ name: "users", nodes: ["a", "b"], available: true },
		{ name: "api", nodes: ["a"], available: true },
	]);
	expect(summaries).toEqual([
		{ name: "api", version: null, instances: 1, nodes: ["a"] },
		{ name: "users", version: null, instances: 2, nodes: ["a", "b"] },
	]);
});

it("is healthy only when every expected service has an instance", () => {
	const running = serviceSummaries([{ name: "users", nodes: ["a"], available: true }]);
	expect(clusterHealth(["users"], running).status).toBe("healthy");
	expect(clusterHealth(["users", "catalog"], running)).toEqual({
		status: "degraded",
		services: [
			{ name: "users", instances: 1 },
			{ name: "catalog", instances: 0 },
		],
		missing: ["catalog"],
	});
});

it("keeps only the newest membership changes", () => {
	const history = new MembershipHistory(2);
	for (const nodeID of ["a", "b", "c"]) history.record({ at: "t", nodeID, change: "joined" });
	expect(history.list().map(h => h.nodeID)).toEqual(["b", "c"]);
});
