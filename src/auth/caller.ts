/** Who is calling an action. */
import { UnauthorizedError } from "../errors";
import type { AppContext, AuthUser } from "../types";

/** The signed-in user of a request. The gateway checked the action's `auth`; this also guards calls made inside the cluster. */
export function requireUser(ctx: AppContext<unknown>): AuthUser {
	const user = ctx.meta.user;
	if (!user) throw new UnauthorizedError();
	return user;
}

/** Whether the caller may see something that `ownerId` owns: its owner, and admins. Anyone else is told it does not exist. */
export function canSee(user: Pick<AuthUser, "id" | "role">, ownerId: string): boolean {
	return user.role === "admin" || user.id === ownerId;
}

/** The query part that limits a list to what the caller may see: everything for an admin, their own otherwise. */
export function visibleTo(user: Pick<AuthUser, "id" | "role">): { userId?: string } {
	return user.role === "admin" ? {} : { userId: user.id };
}
