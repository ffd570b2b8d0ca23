/** Who is calling an action. */
import { UnauthorizedError } from "../errors";
import type { AppContext, AuthUser } from "../types";

/** The signed-in user of a request. The gateway checked the action's `auth`; this also guards calls made inside the cluster. */
export function requireUser(ctx: AppContext<unknown>): AuthUser {
	const user = ctx.meta.user;
	if (!user) throw new UnauthorizedError();
	return user;
}
