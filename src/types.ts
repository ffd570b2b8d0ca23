/** Types shared by the services. */
import type { Context } from "moleculer";

export const ROLES = ["customer", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, as resolved by the gateway from the bearer token. */
export type AuthUser = { id: string; email: string; name: string; role: Role };

/** What the gateway puts in ctx.meta, and what actions may set for the HTTP response. */
export type Meta = {
	user?: AuthUser | null;
	$statusCode?: number;
	$location?: string;
	$responseHeaders?: Record<string, string>;
	headers?: Record<string, string | undefined>;
};

export type AppContext<P = Record<string, unknown>> = Context<P, Meta>;

/** How an action says who may call it through the gateway. */
export type AuthRequirement = "required" | "admin";

// Moleculer's action typings live in a namespace; augmenting it is the way to add keys.
declare module "moleculer" {
	// eslint-disable-next-line @typescript-eslint/no-namespace
	namespace Service {
		interface ActionSchema {
			/** Checked by the gateway: "required" needs a valid token, "admin" an admin's. */
			auth?: AuthRequirement;
			/** The action's route under the gateway's /api, e.g. "GET /users/me" (moleculer-web auto aliases). */
			rest?: string | string[];
		}
	}
}

/** The third type argument of a ServiceSchema whose service keeps no state of its own: `this.typo` does not compile. */
export type NoVars = Record<never, never>;
