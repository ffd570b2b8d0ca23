/** The one trivial action of the Moleculer baselines, and the answer every baseline gives. */
import type { ServiceSchema } from "moleculer";

export const HELLO = { hello: "world" };

export const HelloService: ServiceSchema = {
	name: "hello",
	actions: {
		say: {
			rest: "GET /",
			handler: () => HELLO,
		},
	},
};
