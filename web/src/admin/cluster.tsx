/**
 * The live cluster map, from discovery: every node around the namespace's bus with its
 * services, the instance count of each service, cluster health, and joins and leaves as
 * they happen. Polled every two seconds; unchanged answers cost a 304.
 */
import { ApiError } from "../api";
import { useApi } from "../hooks";
import { duration, time } from "../format";
import { ErrorAlert, Loading } from "../ui";

type NodeView = {
	id: string;
	hostname: string | null;
	available: boolean;
	local: boolean;
	lastHeartbeat: string;
	uptime: number | null;
	cpu: number | null;
	services: string[];
};
type ServiceSummary = { name: string; instances: number; nodes: string[] };
type Health = { status: "healthy" | "degraded"; services: { name: string; instances: number }[]; missing: string[] };
type Change = { at: string; nodeID: string; change: "joined" | "rejoined" | "left" | "lost" };

const EVERY_MS = 2000;

export function ClusterMap() {
	const nodes = useApi<NodeView[]>("/api/discovery/nodes", EVERY_MS);
	const services = useApi<ServiceSummary[]>("/api/discovery/services", EVERY_MS);
	const history = useApi<Change[]>("/api/discovery/history", EVERY_MS);
	// "degraded" comes with a 503: the report is then the error's body.
	const health = useApi<Health>("/api/discovery/health", EVERY_MS);
	const degraded = health.error instanceof ApiError && health.error.status === 503 ? (health.error.body as Health) : undefined;
	const healthReport = degraded?.status ? degraded : health.data;

	return (
		<section aria-labelledby="cluster-title">
			<h1 id="cluster-title">Cluster</h1>
			{healthReport && (
				<p class={`alert ${healthReport.status === "healthy" ? "success" : "error"}`} role="status" data-testid="health">
					Cluster is <strong>{healthReport.status}</strong>
					{healthReport.missing.length > 0 && <> — no instance of {healthReport.missing.join(", ")}</>}
				</p>
			)}
			<ErrorAlert error={nodes.error} />
			{!nodes.data ? <Loading what="the cluster" /> : <NodeMap nodes={nodes.data} />}

			<div class="columns">
				<div>
					<h2>Services</h2>
					{services.data && (
						<div class="table-wrap">
							<table class="table">
								<thead>
									<tr>
										<th scope="col">Service</th>
										<th scope="col">Instances</th>
										<th scope="col">Nodes</th>
									</tr>
								</thead>
								<tbody>
									{services.data.map(s => (
										<tr key={s.name}>
											<td>{s.name}</td>
											<td>{s.instances}</td>
											<td class="wrap">{s.nodes.join(", ")}</td>
										</tr>
									))}
								</tbody>
							</table>
						</div>
					)}
				</div>
				<div>
					<h2>Joins and leaves</h2>
					{history.data && history.data.length === 0 && <p class="muted">No node has joined or left since this node started.</p>}
					<ol class="history" aria-live="polite" data-testid="history">
						{[...(history.data ?? [])].reverse().map(c => (
							<li key={c.at + c.nodeID + c.change} class={`change-${c.change}`}>
								<time dateTime={c.at}>{time(c.at)}</time> <strong>{c.nodeID}</strong> {c.change}
							</li>
						))}
					</ol>
				</div>
			</div>
		</section>
	);
}

/** Nodes on a ring around the bus; each shows its id, state and services. */
function NodeMap({ nodes }: { nodes: NodeView[] }) {
	// One node sits alone in a small picture; more are spread on a ring around the bus.
	const size = nodes.length > 1 ? 420 : 120;
	const center = size / 2;
	const radius = nodes.length > 1 ? 140 : 0;
	const placed = nodes.map((node, i) => {
		const angle = (2 * Math.PI * i) / nodes.length - Math.PI / 2;
		return { node, x: center + radius * Math.cos(angle), y: center + radius * Math.sin(angle) };
	});
	return (
		<div class="cluster-map">
			<svg
				class={nodes.length > 1 ? undefined : "single"}
				viewBox={`0 0 ${size} ${size}`}
				role="img"
				aria-label={`${nodes.length} nodes: ${nodes.map(n => `${n.id} ${n.available ? "up" : "down"}`).join(", ")}`}
			>
				{nodes.length > 1 && <circle cx={center} cy={center} r={radius} class="ring" />}
				{nodes.length > 1 && (
					<text x={center} y={center + 4} text-anchor="middle" class="bus">
						bus
					</text>
				)}
				{placed.map(({ node, x, y }) => (
					<g key={node.id} class={`node ${node.available ? "up" : "down"}`}>
						<circle cx={x} cy={y} r={34} />
						<text x={x} y={y - 2} text-anchor="middle" class="node-id">
							{node.id.length > 14 ? `${node.id.slice(0, 13)}…` : node.id}
						</text>
						<text x={x} y={y + 14} text-anchor="middle" class="node-sub">
							{node.services.length} {node.services.length === 1 ? "service" : "services"}
						</text>
					</g>
				))}
			</svg>
			<ul class="node-list" data-testid="nodes">
				{nodes.map(node => (
					<li key={node.id} class={`card node-card ${node.available ? "up" : "down"}`} data-node-id={node.id}>
						<h3>
							{node.id} {node.local && <span class="badge">this gateway</span>}
						</h3>
						<p>
							<span class={`badge ${node.available ? "status-paid" : "status-cancelled"}`}>{node.available ? "available" : "unavailable"}</span>
							{node.uptime !== null && <> · up {duration(node.uptime)}</>} · heartbeat {time(node.lastHeartbeat)}
							{node.cpu !== null && <> · CPU {node.cpu}%</>}
						</p>
						<p class="chips">
							{node.services.map(s => (
								<span key={s} class="chip">
									{s}
								</span>
							))}
						</p>
					</li>
				))}
			</ul>
		</div>
	);
}
