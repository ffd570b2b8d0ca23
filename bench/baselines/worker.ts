/** Baseline: the trivial action `hello.say` in a process of its own, called over TRANSPORTER by gateway.ts. */
import { ServiceBroker } from "moleculer";
import { HelloService } from "./hello";

const broker = new ServiceBroker({
	namespace: process.env.NAMESPACE,
	nodeID: "baseline-worker",
	transporter: { type: "NATS", options: { url: process.env.TRANSPORTER } },
	logLevel: "warn",
});
broker.createService(HelloService);
void broker.start();
