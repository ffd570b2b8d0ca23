/**
 * The web console in headless Chromium: the shop in the test process (as the integration
 * tests start it), the console built by `npm run build`, Debian's chromium driven by
 * playwright-core. `npm run test:e2e` builds first.
 */
/** @type {import("jest").Config} */
module.exports = {
	testEnvironment: "node",
	roots: ["<rootDir>/test/e2e"],
	testMatch: ["**/*.spec.ts"],
	transform: { "^.+\\.ts$": "ts-jest" },
	setupFiles: ["<rootDir>/test/setup-env.ts", "<rootDir>/test/e2e/setup-env.ts"],
	testTimeout: 60000,
};
