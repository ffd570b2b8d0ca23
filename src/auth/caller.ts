/** Who is calling an action. */
import { UnauthorizedError } from "../errors";
import type { AppContext, AuthRequirement, AuthUser } from "../types";

/**
 * What an action's `auth` says of a caller (`null`: nobody signed in): let in, or refused as
 * unknown (401) or as not an admin (403). The gateway's one rule, for its checks and for the
 * answers it keeps.
 */
export function authVerdict(requirement: AuthRequirement | undefined, caller: { role: string } | null): "allowed" | "unauthorized" | "forbidden" {
	if (!requirement) return "allowed";
	if (!caller) return "unauthorized";
	return requirement === "admin" && caller.role !== "admin" ? "forbidden" : "allowed";
}

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
