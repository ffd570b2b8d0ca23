/**
 * Tier 2: the cluster. Real processes started from docker-compose.yml over real NATS, a
 * MongoDB wire server and Redis (test/cluster/servers.ts provides them), and the in-process
 * integration suite again, this time on MongoDB through mongoose.
 */
const transform = { "^.+\\.ts$": "ts-jest" };

/** @type {import("jest").Config} */
module.exports = {
	globalSetup: "<rootDir>/test/cluster/global-setup.ts",
	globalTeardown: "<rootDir>/test/cluster/global-teardown.ts",
	projects: [
		{
			displayName: "cluster",
			testEnvironment: "node",
			roots: ["<rootDir>/test/cluster"],
			testMatch: ["**/*.spec.ts"],
			transform,
		},
		{
			displayName: "integration on MongoDB",
			testEnvironment: "node",
			roots: ["<rootDir>/test/integration"],
			testMatch: ["**/*.spec.ts"],
			setupFiles: ["<rootDir>/test/setup-env.ts", "<rootDir>/test/cluster/mongo-env.ts"],
			transform,
		},
	],
};
