/** Accounts and authentication through the gateway, as a client sees them. */
import jwt from "jsonwebtoken";
import { startShop, waitFor, type ShopCluster } from "../helpers/cluster";
import { adminToken, client, newCustomer, type Client } from "../helpers/http";

let shop: ShopCluster;
let api: Client;

beforeAll(async () => {
	shop = await startShop();
	api = client(shop.url);
});
afterAll(() => shop.stop());

describe("register", () => {
	it("creates a customer, answers 201 with the user and a token, and never the password", async () => {
		const res = await api.post("/api/auth/register", { email: "  Ann@Example.COM ", password: "s3cret-enough", name: "Ann" });
		expect(res.status).toBe(201);
		expect(res.body.user).toMatchObject({ email: "ann@example.com", name: "Ann", role: "customer" });
		expect(typeof res.body.user.id).toBe("string");
		expect(typeof res.body.token).toBe("string");
		expect(JSON.stringify(res.body)).not.toMatch(/password|s3cret|scrypt/i);
	});

	it("refuses an email that is taken, in any case, with 409", async () => {
		await api.post("/api/auth/register", { email: "bob@example.com", password: "s3cret-enough", name: "Bob" });
		const res = await api.post("/api/auth/register", { email: "BOB@example.com", password: "other-pass-1", name: "Bob 2" });
		expect(res.status).toBe(409);
		expect(res.body).toMatchObject({ name: "ConflictError", code: 409, type: "EMAIL_TAKEN" });
	});

	it("gives one account when the same email registers twice at once", async () => {
		const body = { email: "race@example.com", password: "s3cret-enough", name: "Race" };
		const statuses = (await Promise.all([1, 2, 3].map(() => api.post("/api/auth/register", body)))).map(r => r.status).sort();
		expect(statuses).toEqual([201, 409, 409]);
	});

	it("answers 422 naming every invalid field, and creates nothing", async () => {
		const res = await api.post("/api/auth/register", { email: "not-an-email", password: "short", name: "" });
		expect(res.status).toBe(422);
		const fields = (res.body.data as { field: string }[]).map(d => d.field).sort();
		expect(fields).toEqual(["email", "name", "password"]);
		const login = await api.post("/api/auth/login", { email: "not-an-email", password: "short" });
		expect(login.status).toBe(401);
	});

	it("makes no admin from a register request that asks for it", async () => {
		const res = await api.post("/api/auth/register", { email: "sneaky@example.com", password: "s3cret-enough", name: "S", role: "admin" });
		expect(res.status).toBe(201);
		expect(res.body.user.role).toBe("customer");
	});
});

describe("login", () => {
	it("returns a token that opens /api/users/me", async () => {
		const { user, password } = await newCustomer(api, "Cleo");
		const login = await api.post("/api/auth/login", { email: user.email.toUpperCase(), password });
		expect(login.status).toBe(200);
		const me = await api.get("/api/users/me", { token: login.body.token });
		expect(me.status).toBe(200);
		expect(me.body).toMatchObject({ id: user.id, email: user.email, name: "Cleo", role: "customer" });
		expect(me.body).not.toHaveProperty("passwordHash");
	});

	it("gives the same 401 for a wrong password and an unknown email", async () => {
		const { user } = await newCustomer(api);
		const wrongPassword = await api.post("/api/auth/login", { email: user.email, password: "wrong-password" });
		const unknownEmail = await api.post("/api/auth/login", { email: "nobody@example.com", password: "wrong-password" });
		expect(wrongPassword.status).toBe(401);
		expect(unknownEmail.status).toBe(401);
		expect(unknownEmail.body).toEqual(wrongPassword.body);
	});
});

describe("tokens", () => {
	it("answers 401 without a token on a route that needs one", async () => {
		const res = await api.get("/api/users/me");
		expect(res.status).toBe(401);
		expect(res.body).toMatchObject({ name: "UnauthorizedError", code: 401 });
	});

	it("answers 401 for a forged, malformed or expired token", async () => {
		const { user } = await newCustomer(api);
		const forged = jwt.sign({ role: "admin" }, "not-the-secret", { subject: user.id });
		const expired = jwt.sign({ role: "customer", exp: Math.floor(Date.now() / 1000) - 10 }, process.env.JWT_SECRET!, { subject: user.id });
		for (const token of [forged, expired, "garbage"]) {
			const res = await api.get("/api/users/me", { token });
			expect(res.status).toBe(401);
		}
		const notBearer = await api.get("/api/users/me", { headers: { authorization: "Basic abc" } });
		expect(notBearer.status).toBe(401);
	});

	it("stops taking a token the moment it expires, though the gateway has seen it", async () => {
		const { user } = await newCustomer(api);
		const expiresAt = Math.floor(Date.now() / 1000) + 2;
		const token = jwt.sign({ role: "customer", pv: 0, exp: expiresAt }, process.env.JWT_SECRET!, { subject: user.id });
		expect((await api.get("/api/users/me", { token })).status).toBe(200);
		await new Promise(resolve => setTimeout(resolve, expiresAt * 1000 - Date.now() + 50));
		expect((await api.get("/api/users/me", { token })).status).toBe(401);
	});
});

describe("profile", () => {
	it("changes the name, and the password only with the current one", async () => {
		const { token, user, password } = await newCustomer(api, "Dan");
		const renamed = await api.patch("/api/users/me", { name: "Daniel" }, { token });
		expect(renamed.status).toBe(200);
		expect(renamed.body.name).toBe("Daniel");

		const withoutCurrent = await api.patch("/api/users/me", { password: "new-password-1" }, { token });
		expect(withoutCurrent.status).toBe(422);
		expect(withoutCurrent.body.data).toEqual([expect.objectContaining({ field: "currentPassword" })]);

		const changed = await api.patch("/api/users/me", { password: "new-password-1", currentPassword: password }, { token });
		expect(changed.status).toBe(200);
		// The change ends the sessions opened with the old password.
		expect((await api.get("/api/users/me", { token })).status).toBe(401);
		expect((await api.post("/api/auth/login", { email: user.email, password })).status).toBe(401);
		expect((await api.post("/api/auth/login", { email: user.email, password: "new-password-1" })).status).toBe(200);
	});

	it("answers /users/me again without a call, to its own user only, and shows a change at once", async () => {
		const ann = await newCustomer(api, "Ann");
		const bob = await newCustomer(api, "Bob");
		// A change of any user makes the gateway forget every account and answer of users; so does its relay's write.
		await waitFor(
			async () => ((await shop.brokers[0].call<{ events: number }>("users.outboxBacklog")).events === 0 ? true : undefined),
			"the users' outbox relayed",
		);
		expect((await api.get("/api/users/me", { token: ann.token })).body.name).toBe("Ann");
		expect((await api.get("/api/users/me", { token: bob.token })).body.name).toBe("Bob");
		const lookups = jest.spyOn(shop.brokers[0].cacher!, "get");
		try {
			const again = await api.get("/api/users/me", { token: ann.token });
			expect(again.status).toBe(200);
			expect(again.body).toMatchObject({ id: ann.user.id, name: "Ann" });
			expect((await api.get("/api/users/me", { token: bob.token })).body).toMatchObject({ id: bob.user.id, name: "Bob" });
			expect(lookups).not.toHaveBeenCalled();
		} finally {
			lookups.mockRestore();
		}
		expect((await api.patch("/api/users/me", { name: "Annie" }, { token: ann.token })).status).toBe(200);
		expect((await api.get("/api/users/me", { token: ann.token })).body.name).toBe("Annie");
		expect((await api.get("/api/users/me", { token: bob.token })).body.name).toBe("Bob");
	});

	it("checks a token it knew again after the gateway reconnects, as it may have missed a change of the user", async () => {
		const { token, user } = await newCustomer(api);
		await waitFor(
			async () => ((await shop.brokers[0].call<{ events: number }>("users.outboxBacklog")).events === 0 ? true : undefined),
			"the users' outbox relayed",
		);
		for (let i = 0; i < 2; i++) expect((await api.get("/api/users/me", { token })).status).toBe(200);
		const lookups = jest.spyOn(shop.brokers[0].cacher!, "get");
		try {
			for (const broker of shop.brokers) await broker.broadcastLocal("$transporter.connected");
			expect((await api.get("/api/users/me", { token })).body).toMatchObject({ id: user.id });
			expect(lookups.mock.calls.map(([key]) => key)).toEqual(expect.arrayContaining([`users.tokenHolder:${user.id}`]));
		} finally {
			lookups.mockRestore();
		}
	});

	it("refuses a password that is too short with 422 and keeps the old one", async () => {
		const { token, user, password } = await newCustomer(api);
		const res = await api.patch("/api/users/me", { password: "short", currentPassword: password }, { token });
		expect(res.status).toBe(422);
		expect((await api.post("/api/auth/login", { email: user.email, password })).status).toBe(200);
	});
});

describe("admin routes", () => {
	it("answers 403 to a customer", async () => {
		const { token } = await newCustomer(api);
		expect((await api.get("/api/users", { token })).status).toBe(403);
		expect((await api.get("/api/discovery/nodes", { token })).status).toBe(403);
	});

	it("never gives a customer an admin's answer that the gateway keeps", async () => {
		const customer = await newCustomer(api);
		const admin = await adminToken(api);
		await waitFor(
			async () => ((await shop.brokers[0].call<{ events: number }>("users.outboxBacklog")).events === 0 ? true : undefined),
			"the users' outbox relayed",
		);
		for (let i = 0; i < 2; i++) expect((await api.get(`/api/users/${customer.user.id}`, { token: admin })).status).toBe(200);
		// The customer's token is one the gateway knows by now.
		expect((await api.get("/api/users/me", { token: customer.token })).status).toBe(200);
		const refused = await api.get(`/api/users/${customer.user.id}`, { token: customer.token });
		expect(refused.status).toBe(403);
		expect(refused.body).toMatchObject({ name: "ForbiddenError" });
		expect((await api.get(`/api/users/${customer.user.id}`)).status).toBe(401);
	});

	it("let the seeded admin list and read accounts, without password hashes", async () => {
		const token = await adminToken(api);
		const { user } = await newCustomer(api, "Eve");
		const list = await api.get("/api/users?page=1&pageSize=100", { token });
		expect(list.status).toBe(200);
		expect(list.body.total).toBeGreaterThanOrEqual(2);
		expect(list.body.rows.map((u: { email: string }) => u.email)).toEqual(expect.arrayContaining([process.env.ADMIN_EMAIL, user.email]));
		expect(JSON.stringify(list.body)).not.toMatch(/passwordHash|scrypt/);

		const one = await api.get(`/api/users/${user.id}`, { token });
		expect(one.status).toBe(200);
		expect(one.body).toMatchObject({ id: user.id, name: "Eve" });
		expect((await api.get("/api/users/no-such-user", { token })).status).toBe(404);
	});

	it("answers 422 to a page size over the limit", async () => {
		const token = await adminToken(api);
		const res = await api.get("/api/users?pageSize=100000", { token });
		expect(res.status).toBe(422);
		expect(res.body.data[0].field).toBe("pageSize");
	});
});
