/**
 * Liveness and readiness of one node on a small HTTP port of its own (HEALTH_PORT), for
 * compose healthchecks and orchestrators. A broker middleware: it opens the port when the
 * broker is created, so the probes answer while services start, and closes it at stop.
 *
 *   GET /live   200 while the process runs
 *   GET /ready  200 when the broker started and its transporter, stores and event bus
 *               are connected; 503 (with the failing checks) otherwise
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Middleware, ServiceBroker } from "moleculer";
import { readiness, type BrokerState } from "./readiness";

export type HealthProbes = Middleware & {
	/** The port the probes listen on (the one asked, or the one given for port 0); null before they listen. */
	port(): number | null;
};

function brokerState(broker: ServiceBroker): BrokerState {
	return broker as unknown as BrokerState;
}

export function healthProbes({ port, host = "0.0.0.0" }: { port: number; host?: string }): HealthProbes {
	let server: Server | undefined;

	return {
		name: "HealthProbes",

		created(broker: ServiceBroker) {
			const logger = broker.getLogger("health");
			server = createServer((req, res) => {
				const send = (status: number, body: object) => {
					res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" });
					res.end(JSON.stringify(body));
				};
				const path = (req.url ?? "/").split("?")[0];
				if (req.method !== "GET" && req.method !== "HEAD") return send(405, { status: "method not allowed" });
				if (path === "/live") return send(200, { status: "ok", nodeID: broker.nodeID, uptime: Math.round(process.uptime()) });
				if (path === "/ready") {
					readiness(brokerState(broker)).then(
						({ ready, checks }) => send(ready ? 200 : 503, { status: ready ? "ready" : "not ready", nodeID: broker.nodeID, checks }),
						err => {
							logger.error("The readiness check failed:", err);
							send(503, { status: "not ready", nodeID: broker.nodeID });
						},
					);
					return;
				}
				send(404, { status: "not found", probes: ["/live", "/ready"] });
			});
			server.on("error", err => logger.error(`The health probes cannot listen on port ${port}:`, err));
			server.listen(port, host, () => logger.info(`Health probes on port ${(server!.address() as AddressInfo).port}: /live, /ready`));
		},

		async stopped() {
			if (!server) return;
			const closing = server;
			server = undefined;
			closing.closeAllConnections();
			await new Promise<void>(resolve => closing.close(() => resolve()));
		},

		port() {
			const address = server?.address();
			return address && typeof address === "object" ? address.port : null;
		},
	};
}
