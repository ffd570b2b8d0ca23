/**
 * Reads the Kubernetes manifests of deploy/kubernetes as the tests check them: the base as
 * its files list it, an overlay as `kubectl kustomize` renders it, and each object against
 * the Kubernetes schemas of the kubernetes-models package.
 */
import { execFileSync } from "node:child_process";
import { cpSync, copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseAllDocuments, parse } from "yaml";
import * as apps from "kubernetes-models/apps/v1";
import * as autoscaling from "kubernetes-models/autoscaling/v2";
import * as batch from "kubernetes-models/batch/v1";
import * as core from "kubernetes-models/v1";
import * as networking from "kubernetes-models/networking.k8s.io/v1";
import * as policy from "kubernetes-models/policy/v1";

export const ROOT = path.resolve(__dirname, "../..");
export const KUBERNETES_DIR = path.join(ROOT, "deploy", "kubernetes");
export const BASE_DIR = path.join(KUBERNETES_DIR, "base");

/** A Kubernetes object as parsed from YAML; the checks narrow what they read. */
export type K8sObject = {
	apiVersion: string;
	kind: string;
	metadata: { name: string; namespace?: string; labels?: Record<string, string> };
	[field: string]: any;
};

type Model = new (data: object) => { validate(): void };

/** The API groups the manifests may use, each with the models of its kinds. */
const MODELS: Record<string, Record<string, unknown>> = {
	v1: core,
	"apps/v1": apps,
	"autoscaling/v2": autoscaling,
	"batch/v1": batch,
	"networking.k8s.io/v1": networking,
	"policy/v1": policy,
};

/** Throws with the schema's complaints when `object` is not a valid object of its kind. */
export function validateObject(object: K8sObject): void {
	const model = MODELS[object.apiVersion]?.[object.kind] as Model | undefined;
	if (typeof model !== "function") throw new Error(`${object.kind} ${object.metadata?.name}: no schema for ${object.apiVersion}/${object.kind}`);
	try {
		new model(object).validate();
	} catch (err) {
		throw new Error(`${object.kind} ${object.metadata.name}: ${(err as Error).message}`);
	}
}

function parseObjects(text: string, source: string): K8sObject[] {
	return parseAllDocuments(text).map(doc => {
		if (doc.errors.length) throw new Error(`${source}: ${doc.errors.map(e => e.message).join("; ")}`);
		return doc.toJS() as K8sObject;
	});
}

export function readKustomization(dir: string): { resources?: string[]; [field: string]: any } {
	return parse(readFileSync(path.join(dir, "kustomization.yaml"), "utf8"));
}

/** The objects of the base, from the files its kustomization lists. */
export function baseObjects(): K8sObject[] {
	const { resources = [] } = readKustomization(BASE_DIR);
	return resources.flatMap(file => parseObjects(readFileSync(path.join(BASE_DIR, file), "utf8"), file));
}

export function overlayNames(): string[] {
	return readdirSync(path.join(KUBERNETES_DIR, "overlays"));
}

/** kubectl's path, or null where it is not installed. */
export function kubectl(): string | null {
	for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
		if (dir && existsSync(path.join(dir, "kubectl"))) return path.join(dir, "kubectl");
	}
	return null;
}

/**
 * Renders an overlay with `kubectl kustomize`, in a copy of deploy/kubernetes whose
 * secrets.env is the overlay's secrets.env.example (the real one is never committed).
 */
export function renderOverlay(name: string): K8sObject[] {
	const binary = kubectl();
	if (!binary) throw new Error("kubectl is needed to render the overlays");
	const copy = mkdtempSync(path.join(os.tmpdir(), "shop-kustomize-"));
	try {
		cpSync(KUBERNETES_DIR, copy, { recursive: true });
		const overlay = path.join(copy, "overlays", name);
		copyFileSync(path.join(overlay, "secrets.env.example"), path.join(overlay, "secrets.env"));
		const output = execFileSync(binary, ["kustomize", overlay], { encoding: "utf8" });
		return parseObjects(output, `overlay ${name}`);
	} finally {
		rmSync(copy, { recursive: true, force: true });
	}
}

/** KEY=value lines of an env file, without comments. */
export function readEnvFile(file: string): Record<string, string> {
	const entries = readFileSync(file, "utf8")
		.split("\n")
		.map(line => line.trim())
		.filter(line => line && !line.startsWith("#"))
		.map(line => line.split(/=(.*)/s).slice(0, 2) as [string, string]);
	return Object.fromEntries(entries);
}
