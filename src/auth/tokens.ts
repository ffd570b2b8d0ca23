/**
 * Access tokens: JWTs signed with HS256 and a secret from JWT_SECRET. A token names the
 * user, the role and the account's password version (`pv`). The account is re-read when
 * the token is resolved: a demoted admin loses rights at once, and a password change
 * (which bumps the version) ends every token issued before it.
 */
import { createSecretKey, type KeyObject } from "node:crypto";
import jwt from "jsonwebtoken";

export type TokenClaims = { sub: string; role: string; pv: number };

export type TokenOptions = { secret: string; expiresIn: string | number };

const keys = new Map<string, KeyObject>();

/**
 * The secret as a key object, made once: given a string, jsonwebtoken first tries to read
 * it as a PEM public key and fails, which cost more than the HMAC itself on every request.
 */
function keyOf(secret: string): KeyObject {
	let key = keys.get(secret);
	if (!key) {
		key = createSecretKey(Buffer.from(secret, "utf8"));
		keys.set(secret, key);
	}
	return key;
}

export function issueToken(claims: TokenClaims, options: TokenOptions): string {
	return jwt.sign({ role: claims.role, pv: claims.pv }, keyOf(options.secret), {
		algorithm: "HS256",
		subject: claims.sub,
		expiresIn: options.expiresIn as jwt.SignOptions["expiresIn"],
	});
}

/** A verified token's claims, and when it expires (epoch ms; Infinity for a token issued without an expiry). */
export type ReadToken = TokenClaims & { expiresAt: number };

/** The token's claims, or null when it is malformed, forged or expired. */
export function readToken(token: string, secret: string): ReadToken | null {
	try {
		const payload = jwt.verify(token, keyOf(secret), { algorithms: ["HS256"] });
		if (typeof payload === "string" || typeof payload.sub !== "string" || typeof payload.role !== "string") {
			return null;
		}
		return {
			sub: payload.sub,
			role: payload.role,
			pv: typeof payload.pv === "number" ? payload.pv : 0,
			expiresAt: typeof payload.exp === "number" ? payload.exp * 1000 : Infinity,
		};
	} catch {
		return null;
	}
}
