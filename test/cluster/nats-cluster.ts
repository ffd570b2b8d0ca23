/**
 * A NATS cluster with JetStream on loopback ports, for the tests that lose a NATS node:
 * `size` nats-server processes, each with its own client, route and monitoring port, its
 * own store directory and a config file naming the routes to the others. Ready when every
 * node's /healthz says its JetStream is current (a meta leader is elected), never a sleep.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, natsAnswers, stopProcess, until, which } from "./servers";

export type NatsNode = {
	name: string;
	url: string;
	monitorUrl: string;
	configFile: string;
	child: ChildProcess;
};

export type NatsCluster = {
	nodes: NatsNode[];
	/** Every node's client URL, comma-separated: what TRANSPORTER and EVENTS_NATS_URL take. */
	url: string;
	/** Kills one node the hard way (SIGKILL) and waits until it is gone. */
	kill(node: NatsNode): Promise<void>;
	/** Starts a stopped node again with its config and store, and waits until it is current. */
	restart(node: NatsNode): Promise<void>;
	stop(): Promise<void>;
};

const healthy = async (monitorUrl: string) => {
	const res = await fetch(`${monitorUrl}/healthz`).catch(() => null);
	return res?.status === 200;
};

function launch(binary: string, configFile: string): ChildProcess {
	return spawn(binary, ["-c", configFile], { stdio: "ignore" });
}

export async function startNatsCluster(size = 3): Promise<NatsCluster> {
	const binary = which("nats-server", ["/usr/sbin/nats-server"]);
	if (!binary) throw new Error("nats-server is not installed: the NATS cluster tests start their own servers");
	const root = mkdtempSync(path.join(os.tmpdir(), "shop-nats-cluster-"));
	const ports: { client: number; route: number; monitor: number }[] = [];
	for (let i = 0; i < size; i++) ports.push({ client: await freePort(), route: await freePort(), monitor: await freePort() });

	const nodes: NatsNode[] = ports.map((port, i) => {
		const name = `nats-${i + 1}`;
		const dir = path.join(root, name);
		mkdirSync(dir);
		const routes = ports.filter((_, j) => j !== i).map(other => `nats-route://127.0.0.1:${other.route}`);
		const configFile = path.join(dir, "nats.conf");
		writeFileSync(
			configFile,
			[
				`server_name: ${name}`,
				`listen: 127.0.0.1:${port.client}`,
				`http: 127.0.0.1:${port.monitor}`,
				`jetstream { store_dir: "${path.join(dir, "store")}" }`,
				"cluster {",
				"  name: shop-test",
				`  listen: 127.0.0.1:${port.route}`,
				`  routes: [${routes.join(", ")}]`,
				"}",
				"",
			].join("\n"),
		);
		return { name, url: `nats://127.0.0.1:${port.client}`, monitorUrl: `http://127.0.0.1:${port.monitor}`, configFile, child: launch(binary, configFile) };
	});

	const cluster: NatsCluster = {
		nodes,
		url: nodes.map(n => n.url).join(","),
		async kill(node) {
			const exited = new Promise(resolve => node.child.once("exit", resolve));
			node.child.kill("SIGKILL");
			await exited;
		},
		async restart(node) {
			node.child = launch(binary, node.configFile);
			await until(() => healthy(node.monitorUrl), `${node.name} to be current again`, 30_000);
		},
		async stop() {
			await Promise.all(nodes.map(n => stopProcess(n.child)));
			rmSync(root, { recursive: true, force: true });
		},
	};

	try {
		for (const node of nodes) {
			const port = Number(new URL(node.url).port);
			await until(() => natsAnswers("127.0.0.1", port), node.name, 10_000);
		}
		await until(async () => (await Promise.all(nodes.map(n => healthy(n.monitorUrl)))).every(Boolean), "the JetStream cluster", 30_000);
	} catch (err) {
		await cluster.stop();
		throw err;
	}
	return cluster;
}
