/**
 * Baseline: a bare moleculer-web gateway, default settings, GET /api/hello mapped to the
 * trivial action `hello.say`. Without TRANSPORTER the action runs in this process (the
 * embedded baseline); with it (nats://...), the action runs in worker.ts and every request
 * crosses NATS (the cluster baseline). PORT, TRANSPORTER and NAMESPACE come from the benchmark.
 */
import { ServiceBroker } from "moleculer";
import ApiGateway from "moleculer-web";
import { HelloService } from "./hello";

const transporter = process.env.TRANSPORTER;
const broker = new ServiceBroker({
	namespace: process.env.NAMESPACE,
	nodeID: "baseline-gateway",
	transporter: transporter ? { type: "NATS", options: { url: transporter } } : null,
	logLevel: "warn",
});

broker.createService({
	name: "api",
	mixins: [ApiGateway],
	settings: {
		port: Number(process.env.PORT),
		ip: "127.0.0.1",
		routes: [{ path: "/api", autoAliases: true, whitelist: ["hello.*"] }],
	},
});
if (!transporter) broker.createService(HelloService);

void broker.start();
