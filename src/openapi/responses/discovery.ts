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
	"discovery.deadLetters": {
		summary: "Events a service gave up on, oldest first",
		body: { type: "object", properties: { rows: { type: "array", items: ref("DeadLetter") } }, required: ["rows"], additionalProperties: false },
	},
	"discovery.replayDeadLetter": {
		summary: "Send a dead letter's event again and drop the dead letter",
		description:
			"Consumers are idempotent by event id: only the service that gave up acts on it. With NATS the dead letter goes at once; in the embedded shop once every service has the event again (a new failure replaces it).",
		body: { type: "object", properties: { replayed: { const: true } }, required: ["replayed"], additionalProperties: false },
	},
};
