/** Tier 1: unit and in-process integration tests. No server needed. */
/** @type {import("jest").Config} */
module.exports = {
	testEnvironment: "node",
	roots: ["<rootDir>/test/unit", "<rootDir>/test/integration"],
	testMatch: ["**/*.spec.ts"],
	transform: { "^.+\\.ts$": "ts-jest" },
	setupFiles: ["<rootDir>/test/setup-env.ts"],
	testTimeout: 20000,
};
