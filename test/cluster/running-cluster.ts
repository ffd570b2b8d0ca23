/** A started compose cluster as the cluster specs use it: a gateway client, an admin, instance counts, load. */
import { ComposeCluster, COMPOSE_VARIABLES } from "./compose-cluster";
import type { ServerUrls } from "./servers";
import { testServers } from "./servers-from-env";
import { waitFor, waitForRoutes } from "../helpers/cluster";
import { client, type Client } from "../helpers/http";

export type RunningCluster = { cluster: ComposeCluster; api: Client; adminToken: string };

type ServiceCount = { name: string; instances: number; nodes: string[] };

export async function serviceCounts(api: Client, adminToken: string): Promise<ServiceCount[]> {
	const res = await api.get("/api/discovery/services", { token: adminToken });
	return res.status === 200 ? res.body : [];
}

export async function waitForInstances(api: Client, adminToken: string, expected: Record<string, number>): Promise<void> {
	await waitFor(
		async () => {
			const running = await serviceCounts(api, adminToken);
			const ok = Object.entries(expected).every(([name, n]) => running.find(s => s.name === name)?.instances === n);
			return ok ? true : undefined;
		},
		`instances ${JSON.stringify(expected)}`,
		60_000,
	);
}

/** Logs in the compose admin through the first gateway, once the cluster answers. */
export async function loginAdmin(api: Client): Promise<string> {
	return waitFor(
		async () => {
			const res = await api.post("/api/auth/login", { email: COMPOSE_VARIABLES.ADMIN_EMAIL, password: COMPOSE_VARIABLES.ADMIN_PASSWORD }).catch(() => null);
			return res?.status === 200 ? (res.body.token as string) : undefined;
		},
		"the gateway and users",
		90_000,
	);
}

/**
 * Starts the compose services with `scale` and waits until every instance is in the registry
 * and routed; `servers` and compose `variables` as in ComposeCluster.start.
 */
export async function startCluster(
	scale: Record<string, number>,
	servers: ServerUrls = testServers(),
	variables: Record<string, string> = {},
): Promise<RunningCluster> {
	const cluster = await ComposeCluster.start(servers, scale, variables);
	try {
		const api = client(cluster.apiUrls()[0]);
		const adminToken = await loginAdmin(api);
		await waitForInstances(api, adminToken, scale);
		await waitFor(async () => ((await api.get("/api/discovery/health")).status === 200 ? true : undefined), "a healthy cluster", 30_000);
		for (const url of cluster.apiUrls()) await waitForRoutes(url);
		return { cluster, api, adminToken };
	} catch (err) {
		await cluster.stopAll();
		throw err;
	}
}

/**
 * Runs `worker` in `concurrency` loops until `stop` settles (at most `maxMs`); returns
 * what each call returned.
 */
export async function steadyLoad<T>(concurrency: number, worker: () => Promise<T>, stop: Promise<unknown>, maxMs = 60_000): Promise<T[]> {
	const results: T[] = [];
	const deadline = Date.now() + maxMs;
	let running = true;
	const halt = () => (running = false);
	stop.then(halt, halt);
	await Promise.all(
		Array.from({ length: concurrency }, async () => {
			while (running && Date.now() < deadline) results.push(await worker());
		}),
	);
	return results;
}

export const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));
