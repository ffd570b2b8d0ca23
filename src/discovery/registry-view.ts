/**
 * What discovery shows of the broker registry: plain views built from the lists the
 * registry gives, so that no setting (which may hold a secret) and no handler leaks out.
 */

/** The parts of a registry node that the views read. */
export type RegistryNode = {
	id: string;
	available: boolean;
	local: boolean;
	hostname: string | null;
	ipList: string[] | null;
	lastHeartbeatTime: number;
	metadata: { startedAt?: string } | null;
	client: { type?: string; version?: string; langVersion?: string } | null;
	cpu: number | null;
	services?: { name: string }[];
};

/** The parts of a registry service entry (grouped by name) that the views read. */
export type RegistryService = {
	name: string;
	version?: string | number;
	nodes: string[];
	available: boolean;
	actions?: Record<string, { name: string; rest?: unknown; auth?: string; visibility?: string; params?: unknown }>;
	events?: Record<string, { name: string; group?: string }>;
};

export type NodeView = {
	id: string;
	hostname: string | null;
	addresses: string[];
	available: boolean;
	local: boolean;
	lastHeartbeat: string;
	startedAt: string | null;
	uptime: number | null;
	cpu: number | null;
	moleculer: string | null;
	services: string[];
};

/**
 * The registry keeps a heartbeat time in seconds of this process's uptime; `clock` turns
 * it into a wall-clock time.
 */
export type Clock = { now: number; processUptime: number };

export function nodeView(node: RegistryNode, clock: Clock): NodeView {
	const heartbeatAt = clock.now - (clock.processUptime - node.lastHeartbeatTime) * 1000;
	const startedAt = node.metadata?.startedAt ?? null;
	return {
		id: node.id,
		hostname: node.hostname,
		addresses: node.ipList ?? [],
		available: node.available,
		local: node.local,
		lastHeartbeat: new Date(heartbeatAt).toISOString(),
		startedAt,
		uptime: startedAt ? Math.max(0, Math.round((clock.now - Date.parse(startedAt)) / 1000)) : null,
		cpu: node.cpu,
		moleculer: node.client?.version ?? null,
		services: (node.services ?? []).map(s => s.name).filter(name => !name.startsWith("$")),
	};
}

export type ServiceSummary = { name: string; version: string | number | null; instances: number; nodes: string[] };

/** One entry per service name, counting the available nodes that run it. */
export function serviceSummaries(services: RegistryService[]): ServiceSummary[] {
	const byName = new Map<string, ServiceSummary>();
	for (const service of services) {
		const entry = byName.get(service.name) ?? { name: service.name, version: service.version ?? null, instances: 0, nodes: [] };
		for (const nodeID of service.nodes) if (!entry.nodes.includes(nodeID)) entry.nodes.push(nodeID);
		entry.instances = entry.nodes.length;
		byName.set(service.name, entry);
	}
	return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export type ServiceDetail = ServiceSummary & {
	actions: { name: string; rest: unknown; auth: string | null; visibility: string }[];
	events: { name: string; group: string | null }[];
};

export function serviceDetail(service: RegistryService): ServiceDetail {
	const [summary] = serviceSummaries([service]);
	return {
		...summary,
		actions: Object.values(service.actions ?? {})
			.map(a => ({ name: a.name, rest: a.rest ?? null, auth: a.auth ?? null, visibility: a.visibility ?? "published" }))
			.sort((a, b) => a.name.localeCompare(b.name)),
		events: Object.values(service.events ?? {})
			.map(e => ({ name: e.name, group: e.group ?? null }))
			.sort((a, b) => a.name.localeCompare(b.name)),
	};
}

export type Health = {
	status: "healthy" | "degraded";
	services: { name: string; instances: number }[];
	missing: string[];
};

/** Healthy when every expected service has at least one available instance. */
export function clusterHealth(expected: string[], running: ServiceSummary[]): Health {
	const instances = new Map(running.map(s => [s.name, s.instances]));
	const services = expected.map(name => ({ name, instances: instances.get(name) ?? 0 }));
	const missing = services.filter(s => s.instances === 0).map(s => s.name);
	return { status: missing.length === 0 ? "healthy" : "degraded", services, missing };
}

export type MembershipChange = { at: string; nodeID: string; change: "joined" | "rejoined" | "left" | "lost" };

/** The last `size` changes of cluster membership, newest last. */
export class MembershipHistory {
	private readonly entries: MembershipChange[] = [];

	constructor(private readonly size: number) {}

	record(change: MembershipChange): void {
		this.entries.push(change);
		if (this.entries.length > this.size) this.entries.splice(0, this.entries.length - this.size);
	}

	list(): MembershipChange[] {
		return [...this.entries];
	}
}
