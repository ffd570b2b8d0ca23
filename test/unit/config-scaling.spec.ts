/** The settings for running on more than one machine: replicated event streams and the password-check limit. */
import type { Config } from "../../src/config";

/** src/config.ts as it reads `env` (loaded afresh, since it reads the environment once). */
function configWith(env: Record<string, string>): Config {
	const saved = { ...process.env };
	Object.assign(process.env, env);
	try {
		let loaded: Config | undefined;
		jest.isolateModules(() => {
			loaded = (jest.requireActual("../../src/config") as { config: Config }).config;
		});
		return loaded!;
	} finally {
		process.env = saved;
	}
}

it("keeps one copy of the event streams unless EVENTS_REPLICAS asks for more", () => {
	expect(configWith({}).events.replicas).toBe(1);
	expect(configWith({ EVENTS_REPLICAS: "3" }).events.replicas).toBe(3);
});

it("refuses a replica count JetStream cannot keep", () => {
	expect(() => configWith({ EVENTS_REPLICAS: "0" })).toThrow("EVENTS_REPLICAS must be between 1 and 5");
	expect(() => configWith({ EVENTS_REPLICAS: "7" })).toThrow("EVENTS_REPLICAS must be between 1 and 5");
});

it("allows 5 password changes per account per window unless PASSWORD_CHECK_LIMIT says otherwise", () => {
	expect(configWith({}).gateway.passwordCheckLimit).toBe(5);
	expect(configWith({ PASSWORD_CHECK_LIMIT: "2" }).gateway.passwordCheckLimit).toBe(2);
});
