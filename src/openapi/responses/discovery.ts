import type { ActionDocs } from "../action-doc";
import { ref } from "../schemas";

export const discoveryDocs: ActionDocs = {
	"discovery.nodes": { summary: "The nodes of the cluster", body: { type: "array", items: ref("Node") } },
	"discovery.services": { summary: "Services with their instance count and nodes", body: { type: "array", items: ref("ServiceSummary") } },
	"discovery.service": { summary: "One service: instances, actions, events", body: ref("ServiceDetail") },
	"discovery.health": {
		summary: "Whether every expected service has an instance",
		body: ref("ClusterHealth"),
		responses: { 503: { description: "A service has no instance (`degraded`)", body: ref("ClusterHealth") } },
	},
	"discovery.history": { summary: "The latest nodes that joined or left", body: { type: "array", items: ref("MembershipChange") } },
};
