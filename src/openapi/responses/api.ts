import type { ActionDocs } from "../action-doc";
import { ref } from "../schemas";

export const apiDocs: ActionDocs = {
	"api.health": { summary: "Liveness of this gateway", body: ref("Liveness") },
	"api.ready": {
		summary: "Readiness of this gateway: started, and the services it needs reachable",
		body: ref("Readiness"),
		responses: { 503: { description: "Not ready yet", body: ref("Readiness") } },
	},
	"api.openapi": { summary: "This document", body: { type: "object", description: "OpenAPI 3.1" } },
};
