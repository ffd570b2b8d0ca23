/**
 * Access tokens: JWTs signed with HS256 and a secret from JWT_SECRET. A token names the
 * user and role; the role is re-read from the account when the token is resolved, so a
 * demoted admin loses rights at once.
 */
import jwt from "jsonwebtoken";

export type TokenClaims = { sub: string; role: string };

export type TokenOptions = { secret: string; expiresIn: string | number };

export function issueToken(claims: TokenClaims, options: TokenOptions): string {
	return jwt.sign({ role: claims.role }, options.secret, {
		algorithm: "HS256",
		subject: claims.sub,
		expiresIn: options.expiresIn as jwt.SignOptions["expiresIn"],
	});
}

/** The token's claims, or null when it is malformed, forged or expired. */
export function readToken(token: string, secret: string): TokenClaims | null {
	try {
		const payload = jwt.verify(token, secret, { algorithms: ["HS256"] });
		if (typeof payload === "string" || typeof payload.sub !== "string" || typeof payload.role !== "string") {
			return null;
		}
		return { sub: payload.sub, role: payload.role };
	} catch {
		return null;
	}
}
