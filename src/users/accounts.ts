/** Account rules: how emails are compared and what of an account may be shown. */
import type { AuthUser, Role } from "../types";

/** The stored account. `passwordHash` never leaves the users service. */
export type Account = {
	_id: string;
	email: string;
	name: string;
	role: Role;
	passwordHash: string;
	/** Bumped by every password change; tokens carry it, so older tokens stop working. */
	passwordVersion?: number;
	createdAt: string;
	updatedAt: string;
};

export type PublicUser = AuthUser & { createdAt: string; updatedAt: string };

/** Emails are unique regardless of case and surrounding spaces. */
export function normalizeEmail(email: string): string {
	return email.trim().toLowerCase();
}

/** The account as anyone outside the users service may see it. */
export function publicUser(account: Account): PublicUser {
	return {
		id: account._id,
		email: account.email,
		name: account.name,
		role: account.role,
		createdAt: account.createdAt,
		updatedAt: account.updatedAt,
	};
}
