import { hashPassword, passwordProblem, verifyPassword } from "../../src/auth/passwords";

describe("password policy", () => {
	it("accepts 8 to 128 characters that are not all blank", () => {
		expect(passwordProblem("12345678")).toBeNull();
		expect(passwordProblem("x".repeat(128))).toBeNull();
	});

	it("names what is wrong with a password it refuses", () => {
		expect(passwordProblem("1234567")).toMatch(/at least 8/);
		expect(passwordProblem("x".repeat(129))).toMatch(/at most 128/);
		expect(passwordProblem("         ")).toMatch(/blank/);
	});
});

describe("password hashing", () => {
	it("verifies the right password and refuses a wrong one", async () => {
		const hash = await hashPassword("correct horse");
		expect(await verifyPassword("correct horse", hash)).toBe(true);
		expect(await verifyPassword("correct horsf", hash)).toBe(false);
	});

	it("salts every hash, and keeps neither the password nor a fast digest of it", async () => {
		const [a, b] = await Promise.all([hashPassword("same password"), hashPassword("same password")]);
		expect(a).not.toEqual(b);
		expect(a).toMatch(/^scrypt\$16384\$8\$1\$/);
		expect(a).not.toContain("same password");
	});

	it("refuses a stored value that is not one of its hashes", async () => {
		expect(await verifyPassword("anything", "plain-text")).toBe(false);
		expect(await verifyPassword("anything", "")).toBe(false);
	});
});
