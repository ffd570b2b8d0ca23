import jwt from "jsonwebtoken";
import { issueToken, readToken } from "../../src/auth/tokens";

const secret = "unit-test-secret";

it("reads back the user and role of a token it issued", () => {
	const before = Date.now();
	const token = issueToken({ sub: "u1", role: "admin", pv: 2 }, { secret, expiresIn: "1h" });
	const claims = readToken(token, secret);
	expect(claims).toMatchObject({ sub: "u1", role: "admin", pv: 2 });
	// When it expires, to the second, as JWTs count.
	expect(claims!.expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3_600_000);
	expect(claims!.expiresAt).toBeLessThanOrEqual(Date.now() + 3_600_000);
});

it("refuses an expired token", async () => {
	const token = issueToken({ sub: "u1", role: "customer", pv: 0 }, { secret, expiresIn: 1 });
	expect(readToken(token, secret)).not.toBeNull();
	await new Promise(resolve => setTimeout(resolve, 1100));
	expect(readToken(token, secret)).toBeNull();
});

it("refuses a token signed with another secret, an unsigned one, and garbage", () => {
	const forged = issueToken({ sub: "u1", role: "admin", pv: 0 }, { secret: "other", expiresIn: "1h" });
	const unsigned = jwt.sign({ role: "admin", sub: "u1" }, "", { algorithm: "none" });
	expect(readToken(forged, secret)).toBeNull();
	expect(readToken(unsigned, secret)).toBeNull();
	expect(readToken("not.a.token", secret)).toBeNull();
});

it("refuses a token without a subject or role", () => {
	const token = jwt.sign({ foo: "bar" }, secret);
	expect(readToken(token, secret)).toBeNull();
});
