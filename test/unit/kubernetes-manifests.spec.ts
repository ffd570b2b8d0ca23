/**
 * The Kubernetes manifests (deploy/kubernetes): valid objects, the same services and
 * environment as docker-compose.yml, probes and a graceful stop that fit together, and
 * replicated servers that match what the shop's settings name.
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { config } from "../../src/config";
import { readDockerfile } from "../cluster/compose-cluster";
import {
	BASE_DIR,
	KUBERNETES_DIR,
	ROOT,
	baseObjects,
	kubectl,
	overlayNames,
	readEnvFile,
	readKustomization,
	renderOverlay,
	validateObject,
	type K8sObject,
} from "../helpers/kubernetes";

type ComposeService = { build?: unknown; environment?: Record<string, unknown> };
type Container = {
	name: string;
	image: string;
	env?: { name: string; value?: string; valueFrom?: any }[];
	envFrom?: any[];
	ports?: { name: string; containerPort: number }[];
	[field: string]: any;
};

const objects = baseObjects();
const ofKind = (kind: string) => objects.filter(o => o.kind === kind);
const named = (kind: string, name: string) => {
	const found = objects.find(o => o.kind === kind && o.metadata.name === name);
	if (!found) throw new Error(`no ${kind} ${name}`);
	return found;
};

const compose = parse(readFileSync(path.join(ROOT, "docker-compose.yml"), "utf8"), { merge: true }) as { services: Record<string, ComposeService> };
const composeApps = Object.entries(compose.services).filter(([, service]) => service.build !== undefined);

const shopConfig = named("ConfigMap", "shop-config").data as Record<string, string>;

/** The image's own environment, which compose leaves as it is and a pod may fit to its limits. */
const imageEnv = readDockerfile(readFileSync(path.join(ROOT, "Dockerfile"), "utf8")).env;
const shopDeployments = ofKind("Deployment").filter(d => d.spec.template.spec.containers[0].image.startsWith("moleculer-shop"));
const containerOf = (workload: K8sObject): Container => workload.spec.template.spec.containers[0];
const envNames = (c: Container) => (c.env ?? []).map(e => e.name);
const envValue = (c: Container, name: string) => c.env?.find(e => e.name === name)?.value ?? shopConfig[name];

/** The seconds of a `preStop: exec: sleep N`. */
function preStopSleep(c: Container): number {
	const [program, seconds] = c.lifecycle?.preStop?.exec?.command ?? [];
	if (program !== "sleep") throw new Error(`${c.name}: no preStop sleep`);
	return Number(seconds);
}

describe("the base", () => {
	it("lists every manifest file it has in its kustomization", () => {
		const files = readdirSync(BASE_DIR).filter(f => f.endsWith(".yaml") && f !== "kustomization.yaml");
		expect([...(readKustomization(BASE_DIR).resources ?? [])].sort()).toEqual(files.sort());
	});

	it("has only objects that are valid against the Kubernetes schemas", () => {
		expect(objects.length).toBeGreaterThan(20);
		for (const object of objects) validateObject(object);
	});

	it("catches an invalid object (the validation is not a formality)", () => {
		const broken = structuredClone(named("Deployment", "api"));
		broken.spec.replicas = "two";
		expect(() => validateObject(broken)).toThrow("Deployment api");
		expect(() => validateObject({ ...broken, kind: "Deploymint" })).toThrow("no schema");
	});

	it("names each object once per kind", () => {
		const keys = objects.map(o => `${o.kind}/${o.metadata.name}`);
		expect(new Set(keys).size).toBe(keys.length);
	});
});

describe("the shop's Deployments", () => {
	it("are one per application service of docker-compose.yml, from the one image, with its SERVICES", () => {
		expect(shopDeployments.map(d => d.metadata.name).sort()).toEqual(composeApps.map(([name]) => name).sort());
		for (const [name, service] of composeApps) {
			const container = containerOf(named("Deployment", name));
			expect(container.image).toBe("moleculer-shop");
			expect(envValue(container, "SERVICES")).toBe(service.environment?.SERVICES);
		}
	});

	it("give each service the same environment keys as compose", () => {
		for (const [name, service] of composeApps) {
			const container = containerOf(named("Deployment", name));
			const fromConfigMaps = (container.envFrom ?? []).flatMap(source => Object.keys(named("ConfigMap", source.configMapRef.name).data));
			const keys = [...fromConfigMaps, ...envNames(container)];
			const composeKeys = Object.keys(service.environment ?? {});
			const beyondImage = keys.filter(key => !(key in imageEnv) || composeKeys.includes(key));
			expect({ name, keys: beyondImage.sort() }).toEqual({ name, keys: composeKeys.sort() });
			expect(new Set(keys).size).toBe(keys.length);
		}
	});

	it("keep the image's heap settings, with the old generation capped below the pods' memory limit", () => {
		const flag = (options: string, name: string) => options.split(" ").find(o => o.startsWith(`--${name}=`));
		expect(flag(shopConfig.NODE_OPTIONS, "max-semi-space-size")).toBe(flag(imageEnv.NODE_OPTIONS, "max-semi-space-size"));
		// Without it a pod keeps the heap a burst grew (src/maintenance/when-idle.ts).
		expect(shopConfig.NODE_OPTIONS.split(" ")).toContain("--expose-gc");
		expect(imageEnv.NODE_OPTIONS.split(" ")).toContain("--expose-gc");
		const oldSpaceMb = Number(flag(shopConfig.NODE_OPTIONS, "max-old-space-size")?.split("=")[1]);
		for (const deployment of shopDeployments) {
			const limit = String(containerOf(deployment).resources.limits.memory);
			expect(limit).toMatch(/^\d+Mi$/);
			expect(oldSpaceMb).toBeLessThanOrEqual(0.75 * Number.parseInt(limit, 10));
		}
	});

	it("take the secrets from the Secret shop-secrets, never from a value in the manifests", () => {
		const secretKeys = ["JWT_SECRET", "ADMIN_EMAIL", "ADMIN_PASSWORD", "SMTP_URL"];
		expect(ofKind("Secret")).toEqual([]);
		for (const key of secretKeys) expect(shopConfig[key]).toBeUndefined();
		for (const deployment of shopDeployments) {
			for (const entry of containerOf(deployment).env ?? []) {
				if (!secretKeys.includes(entry.name)) continue;
				expect(entry.value).toBeUndefined();
				expect(entry.valueFrom.secretKeyRef).toMatchObject({ name: "shop-secrets", key: entry.name });
			}
			expect(envNames(containerOf(deployment))).toContain("JWT_SECRET");
		}
	});

	it("probe the gateway on GET /health and /ready, and every other node on its health port's /live and /ready", () => {
		for (const deployment of shopDeployments) {
			const container = containerOf(deployment);
			const isGateway = deployment.metadata.name === "api";
			// HEALTH_PORT (default 3001) serves /live and /ready on every node but the gateway.
			const port = container.ports!.find(p => p.name === (isGateway ? "http" : "health"));
			expect(port?.containerPort).toBe(isGateway ? Number(envValue(container, "PORT")) : 3001);
			const live = isGateway ? "/health" : "/live";
			expect(container.startupProbe.httpGet).toEqual({ path: live, port: port!.name });
			expect(container.livenessProbe.httpGet).toEqual({ path: live, port: port!.name });
			expect(container.readinessProbe.httpGet).toEqual({ path: "/ready", port: port!.name });
		}
	});

	it("stop gracefully: out of the load balancer first, then the broker's stop within the grace period", () => {
		for (const deployment of shopDeployments) {
			const container = containerOf(deployment);
			const sleep = preStopSleep(container);
			// SHUTDOWN_TIMEOUT as the pod has it: from its environment, else the default of src/config.ts.
			const shutdownSeconds = Number(envValue(container, "SHUTDOWN_TIMEOUT") ?? config.broker.shutdownTimeout) / 1000;
			// The readiness probe sees a stopping pod fail within its period times its threshold; the sleep covers that.
			const { periodSeconds, failureThreshold } = container.readinessProbe;
			expect(sleep).toBeGreaterThanOrEqual(periodSeconds);
			expect(failureThreshold * periodSeconds).toBeLessThanOrEqual(2 * sleep);
			// The kubelet kills at the end of the grace period: it must outlast the sleep, the requests in flight and the broker's leaving.
			expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(sleep + shutdownSeconds + 5);
		}
	});

	it("request CPU and memory, and cap memory, in every container of every workload", () => {
		const workloads = objects.filter(o => ["Deployment", "StatefulSet", "Job"].includes(o.kind));
		for (const workload of workloads) {
			for (const container of workload.spec.template.spec.containers as Container[]) {
				expect({ workload: workload.metadata.name, requests: Object.keys(container.resources?.requests ?? {}).sort() }).toEqual({
					workload: workload.metadata.name,
					requests: ["cpu", "memory"],
				});
				expect(container.resources.limits?.memory).toBeDefined();
			}
		}
	});

	it("autoscale the gateway, users, catalog and orders, leaving them no fixed replica count", () => {
		const autoscaled = ofKind("HorizontalPodAutoscaler");
		expect(autoscaled.map(h => h.metadata.name).sort()).toEqual(expect.arrayContaining(["api", "catalog", "orders"]));
		for (const hpa of autoscaled) {
			const target = named("Deployment", hpa.spec.scaleTargetRef.name);
			expect(hpa.spec.scaleTargetRef).toMatchObject({ apiVersion: "apps/v1", kind: "Deployment" });
			// A replica count in the Deployment would undo the autoscaler on every apply.
			expect(target.spec.replicas).toBeUndefined();
			expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
			expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
			expect(containerOf(target).resources.requests.cpu).toBeDefined();
		}
	});

	it("have a PodDisruptionBudget each, as do NATS and MongoDB, selecting their pods", () => {
		const budgets = ofKind("PodDisruptionBudget");
		for (const workload of [...shopDeployments, named("StatefulSet", "nats"), named("StatefulSet", "mongo")]) {
			const podLabels = workload.spec.template.metadata.labels as Record<string, string>;
			const budget = budgets.find(b => Object.entries(b.spec.selector.matchLabels).every(([k, v]) => podLabels[k] === v));
			expect({ workload: workload.metadata.name, maxUnavailable: budget?.spec.maxUnavailable }).toEqual({
				workload: workload.metadata.name,
				maxUnavailable: 1,
			});
		}
	});
});

describe("the way in", () => {
	it("routes the Ingress to the api Service, which selects the gateway pods on their http port", () => {
		const ingress = named("Ingress", "shop");
		const backend = ingress.spec.rules[0].http.paths[0].backend.service;
		const service = named("Service", backend.name);
		const api = named("Deployment", "api");
		expect(service.spec.selector).toEqual(api.spec.selector.matchLabels);
		const servicePort = service.spec.ports.find((p: { name: string }) => p.name === backend.port.name);
		expect(containerOf(api).ports!.map(p => p.name)).toContain(servicePort.targetPort);
		// Behind the ingress controller the rate limit must see the client's address.
		expect(envValue(containerOf(api), "TRUST_PROXY")).toBe("true");
	});
});

describe("the servers", () => {
	const nats = named("StatefulSet", "nats");
	const natsConf = named("ConfigMap", "nats-config").data["nats.conf"] as string;
	const mongo = named("StatefulSet", "mongo");
	const pods = (set: K8sObject) => Array.from({ length: set.spec.replicas }, (_, i) => `${set.metadata.name}-${i}.${set.spec.serviceName}`);

	it("run NATS with JetStream as a three-node cluster whose routes name every node, behind a headless Service", () => {
		expect(nats.spec.replicas).toBe(3);
		expect(natsConf).toMatch(/jetstream\s*{/);
		for (const pod of pods(nats)) expect(natsConf).toContain(`nats-route://${pod}:6222`);
		const service = named("Service", nats.spec.serviceName);
		expect(service.spec).toMatchObject({ clusterIP: "None", publishNotReadyAddresses: true });
		expect(containerOf(nats).volumeMounts.map((m: { name: string }) => m.name)).toContain("data");
		expect(nats.spec.volumeClaimTemplates.map((t: K8sObject) => t.metadata.name)).toContain("data");
	});

	it("connect the shop to every NATS node and replicate the event streams on all of them", () => {
		expect(shopConfig.TRANSPORTER.split(",")).toEqual(pods(nats).map(pod => `nats://${pod}:4222`));
		expect(Number(shopConfig.EVENTS_REPLICAS)).toBe(nats.spec.replicas);
	});

	it("run MongoDB as a replica set whose members the shop's MONGO_URI and the set's Job both name", () => {
		const command = containerOf(mongo).command as string[];
		const replicaSet = command[command.indexOf("--replSet") + 1];
		const uri = new URL(shopConfig.MONGO_URI.replace(/^mongodb:\/\/[^/]+/, "mongodb://hosts"));
		expect(uri.searchParams.get("replicaSet")).toBe(replicaSet);
		const members = pods(mongo).map(pod => `${pod}:27017`);
		expect(shopConfig.MONGO_URI.slice("mongodb://".length).split("/")[0].split(",")).toEqual(members);
		const script = containerOf(named("Job", "mongo-replica-set")).command.join(" ");
		expect(script).toContain(`_id: "${replicaSet}"`);
		for (const member of members) expect(script).toContain(member);
	});

	it("keep Redis for the shared cache and rate limits, where CACHER points", () => {
		const service = named("Service", "redis");
		expect(shopConfig.CACHER).toBe(`redis://${service.metadata.name}:${service.spec.ports[0].port}`);
		expect(service.spec.selector).toEqual(named("Deployment", "redis").spec.selector.matchLabels);
	});
});

// Rendering needs kubectl (it has kustomize built in); CI has it, and fails without it.
const renderable = kubectl() !== null || process.env.CI === "true";
(renderable ? describe : describe.skip)("each overlay, rendered by kubectl kustomize", () => {
	it.each(overlayNames())("%s: valid objects in its namespace, a pinned image and generated secrets", overlay => {
		const rendered = renderOverlay(overlay);
		const { namespace } = readKustomization(path.join(KUBERNETES_DIR, "overlays", overlay));
		expect(rendered.length).toBe(objects.length + 2); // plus its Namespace and its Secret
		for (const object of rendered) validateObject(object);
		for (const object of rendered.filter(o => o.kind !== "Namespace")) expect(object.metadata.namespace).toBe(namespace);

		const secret = rendered.find(o => o.kind === "Secret")!;
		expect(Object.keys(secret.data).sort()).toEqual(Object.keys(readEnvFile(path.join(KUBERNETES_DIR, "overlays", overlay, "secrets.env.example"))).sort());
		for (const deployment of rendered.filter(o => o.kind === "Deployment" && o.metadata.name !== "redis")) {
			const container = containerOf(deployment);
			expect(container.image).toMatch(/moleculer-shop:(?!latest$)[\w.-]+$/);
			for (const entry of container.env ?? []) {
				if (entry.valueFrom?.secretKeyRef) expect(entry.valueFrom.secretKeyRef.name).toBe(secret.metadata.name);
			}
		}
	});
});
