/** How the cluster harness reads docker-compose.yml and the Dockerfile. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { interpolate, readDockerfile } from "../cluster/compose-cluster";

it("fills ${VAR}, ${VAR:-default} and refuses a missing ${VAR:?message} as compose does", () => {
	expect(interpolate("${A}-${B:-fallback}-${C}", { A: "a" })).toBe("a-fallback-");
	expect(() => interpolate("${SECRET:?set SECRET}", {})).toThrow("compose needs SECRET: set SECRET");
	expect(interpolate("${SECRET:?set SECRET}", { SECRET: "s" })).toBe("s");
});

it("takes ENV, WORKDIR and CMD of the Dockerfile's last stage", () => {
	const { env, cmd, workdir } = readDockerfile(readFileSync(path.join(__dirname, "../../Dockerfile"), "utf8"));
	expect(env).toMatchObject({ NODE_ENV: "production", SERVICEDIR: "dist/services" });
	expect(workdir).toBe("/app");
	expect(cmd).toEqual(expect.arrayContaining(["node", "--config", "dist/moleculer.config.js"]));
});

it("keeps a quoted ENV value with spaces whole, as the image's NODE_OPTIONS is", () => {
	const text = 'FROM node AS build\nENV A=1\nFROM node\nENV NODE_OPTIONS="--one --two" \\\n    B=2\nCMD ["node", "x.js"]\n';
	expect(readDockerfile(text).env).toEqual({ NODE_OPTIONS: "--one --two", B: "2" });
});
