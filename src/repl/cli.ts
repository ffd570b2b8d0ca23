/**
 * `npm run cli`: the Moleculer REPL on a running cluster, with the shop's commands. It
 * starts a broker node with no services that joins the cluster over TRANSPORTER (in the
 * NAMESPACE of the shop), so `services`, `nodes`, `call` and the shop's commands see the
 * whole cluster.
 */
import os from "node:os";
import { ServiceBroker } from "moleculer";
import brokerConfig from "../../moleculer.config";
import { config } from "../config";

async function main(): Promise<void> {
	if (!config.broker.transporter) {
		process.stderr.write("npm run cli joins a running cluster: set TRANSPORTER (e.g. nats://localhost:4222) and NAMESPACE.\n");
		process.exit(1);
	}
	const broker = new ServiceBroker({
		...brokerConfig,
		nodeID: `cli-${os.hostname()}-${process.pid}`,
		// A client of the cluster: no cache, metrics, traces or probes of its own (their ports may be a service's).
		cacher: null,
		metrics: false,
		tracing: false,
		middlewares: [],
	});
	await broker.start();
	// The registry learns the other nodes a moment after joining; the commands need these.
	await broker.waitForServices(["orders", "catalog"], 10_000).catch(() => broker.logger.warn("orders or catalog has no instance yet"));
	broker.repl();
}

main().catch(err => {
	process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
	process.exit(1);
});
