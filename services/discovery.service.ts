/**
 * discovery: what the broker registry knows of the cluster: nodes, services and their
 * instances, whether every expected service is running, and who joined or left lately;
 * and the business events a service gave up on (dead letters), for an operator to replay.
 */
import type { ServiceSchema } from "moleculer";
import { DurableEvents, type DurableEventsMethods } from "../mixins/durable-events.mixin";
import type { DeadLetter } from "../src/durable-events/bus";
import { config } from "../src/config";
import {
	MembershipHistory,
	clusterHealth,
	nodeView,
	serviceDetail,
	serviceSummaries,
	type RegistryNode,
	type RegistryService,
} from "../src/discovery/registry-view";
import { NotFoundError } from "../src/errors";
import { idRule } from "../src/params";
import type { AppContext } from "../src/types";

type Methods = DurableEventsMethods & {
	registryNodes(): RegistryNode[];
	registryServices(withDetails?: boolean): RegistryService[];
};

type Vars = { history: MembershipHistory };

const DiscoveryService: ServiceSchema<{ rest: string }, Methods, Vars> = {
	name: "discovery",

	// For the dead letters: the mixin opens the event bus on first use; this service consumes nothing.
	mixins: [DurableEvents],

	settings: {
		rest: "/discovery",
	},

	actions: {
		/** Business events that a service's handler kept failing on, oldest first. */
		deadLetters: {
			rest: "GET /dead-letters",
			auth: "admin",
			params: { limit: { type: "number", integer: true, min: 1, max: 500, default: 100, convert: true } },
			async handler(ctx: AppContext<{ limit: number }>): Promise<{ rows: DeadLetter[] }> {
				return { rows: await this.fetchDeadLetters(ctx.params.limit) };
			},
		},

		/** Sends a dead letter's event again (consumers are idempotent: only the one that gave up acts) and drops the dead letter (embedded: once the event is delivered again). */
		replayDeadLetter: {
			rest: "POST /dead-letters/:id/replay",
			auth: "admin",
			params: { id: idRule },
			async handler(ctx: AppContext<{ id: string }>): Promise<{ replayed: true }> {
				if (!(await this.resendDeadLetter(ctx.params.id))) throw new NotFoundError("Dead letter", ctx.params.id);
				return { replayed: true };
			},
		},

		nodes: {
			rest: "GET /nodes",
			retryPolicy: { enabled: true },
			auth: "admin",
			handler() {
				const clock = { now: Date.now(), processUptime: process.uptime() };
				return this.registryNodes().map(node => nodeView(node, clock));
			},
		},

		services: {
			rest: "GET /services",
			retryPolicy: { enabled: true },
			auth: "admin",
			handler() {
				return serviceSummaries(this.registryServices());
			},
		},

		service: {
			rest: "GET /services/:name",
			retryPolicy: { enabled: true },
			auth: "admin",
			params: { name: { type: "string", max: 100 } },
			handler(ctx: AppContext<{ name: string }>) {
				const entry = this.registryServices(true).find(s => s.name === ctx.params.name);
				if (!entry) throw new NotFoundError("Service", ctx.params.name);
				return serviceDetail(entry);
			},
		},

		/** Public: whether every expected service has an instance. 503 when one is missing. */
		health: {
			rest: "GET /health",
			retryPolicy: { enabled: true },
			handler(ctx: AppContext) {
				const health = clusterHealth(config.discovery.expectedServices, serviceSummaries(this.registryServices()));
				if (health.status !== "healthy") ctx.meta.$statusCode = 503;
				return health;
			},
		},

		history: {
			rest: "GET /history",
			retryPolicy: { enabled: true },
			auth: "admin",
			handler() {
				return this.history.list();
			},
		},
	},

	events: {
		"$node.connected"(ctx: AppContext<{ node: { id: string }; reconnected: boolean }>) {
			const { node, reconnected } = ctx.params;
			this.history.record({ at: new Date().toISOString(), nodeID: node.id, change: reconnected ? "rejoined" : "joined" });
		},
		"$node.disconnected"(ctx: AppContext<{ node: { id: string }; unexpected: boolean }>) {
			const { node, unexpected } = ctx.params;
			this.history.record({ at: new Date().toISOString(), nodeID: node.id, change: unexpected ? "lost" : "left" });
		},
	},

	methods: {
		registryNodes() {
			return this.broker.registry.getNodeList({ onlyAvailable: false, withServices: true }) as unknown as RegistryNode[];
		},

		registryServices(withDetails = false) {
			return this.broker.registry.getServiceList({
				onlyAvailable: true,
				skipInternal: true,
				grouping: true,
				withActions: withDetails,
				withEvents: withDetails,
			}) as unknown as RegistryService[];
		},
	},

	created() {
		this.history = new MembershipHistory(config.discovery.historySize);
	},
};

export default DiscoveryService;
