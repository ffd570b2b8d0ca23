import { providerNamed } from "../../src/payments/providers";
import { createSandboxProvider, RecentMap, SANDBOX_CARDS, sandboxDecision } from "../../src/payments/sandbox-provider";

const charge = (number: string, reference = "p1") =>
	createSandboxProvider().charge({ amount: 1000, currency: "USD", card: { number, expMonth: 12, expYear: 2030, cvc: "123" }, reference });

describe("sandbox provider", () => {
	it("charges 4242 4242 4242 4242 and answers a reference of its own", async () => {
		const result = await charge(SANDBOX_CARDS.succeeds);
		expect(result).toEqual({ ok: true, providerRef: expect.stringMatching(/^sandbox_ch_/) });
	});

	it("declines 4000 0000 0000 0002 as card_declined", async () => {
		expect(await charge("4000000000000002")).toEqual({ ok: false, reason: "card_declined", message: expect.any(String) });
	});

	it("declines 4000 0000 0000 9995 as insufficient_funds, also written with spaces", async () => {
		expect(await charge("4000000000009995")).toMatchObject({ ok: false, reason: "insufficient_funds" });
		expect(sandboxDecision("4000 0000 0000 9995", "p1")).toMatchObject({ ok: false, reason: "insufficient_funds" });
	});

	it("charges any other card", async () => {
		for (const number of ["5555555555554444", "378282246310005", "6011111111111117"]) {
			expect(await charge(number)).toMatchObject({ ok: true });
		}
	});

	it("gives each charge and refund a reference of its own, the same whenever it is asked again under the shop's reference", async () => {
		const [a, b] = await Promise.all([charge(SANDBOX_CARDS.succeeds, "p1"), charge(SANDBOX_CARDS.succeeds, "p2")]);
		expect(a).not.toEqual(b);
		// Another process's sandbox (a payments instance that took the payment over) answers the same.
		expect(await charge(SANDBOX_CARDS.succeeds, "p1")).toEqual(a);
		const sandbox = createSandboxProvider();
		const refund = await sandbox.refund({ providerRef: "sandbox_ch_1", amount: 1000, reference: "p1" });
		expect(refund).toEqual({ ok: true, providerRef: expect.stringMatching(/^sandbox_re_/) });
		// Asked again with the same reference (a retry after a timeout): the same refund, not a second one.
		expect(await sandbox.refund({ providerRef: "sandbox_ch_1", amount: 1000, reference: "p1" })).toEqual(refund);
	});
});

describe("what became of a charge", () => {
	it("answers the outcome of a charge by its reference, the same charge again, and unknown for one it never got", async () => {
		const sandbox = createSandboxProvider();
		const request = { amount: 1000, currency: "USD", card: { number: SANDBOX_CARDS.succeeds, expMonth: 12, expYear: 2030, cvc: "123" }, reference: "p9" };
		const charged = await sandbox.charge(request);
		expect(await sandbox.charge(request)).toEqual(charged);
		expect(await sandbox.status("p9")).toEqual(charged);
		expect(await sandbox.status("p10")).toEqual({ ok: "unknown" });
	});
});

describe("how long the sandbox remembers", () => {
	it("answers for a charge as long as the shop may ask about it, and forgets it some time after", async () => {
		let now = 0;
		const sandbox = createSandboxProvider({ rememberMs: 10_000, now: () => now });
		const request = { amount: 1000, currency: "USD", card: { number: SANDBOX_CARDS.succeeds, expMonth: 12, expYear: 2030, cvc: "123" }, reference: "p1" };
		const charged = await sandbox.charge(request);
		now = 9_999;
		expect(await sandbox.status("p1")).toEqual(charged);
		now = 19_000;
		expect(await sandbox.status("p1")).toEqual(charged);
		now = 40_000;
		expect(await sandbox.status("p1")).toEqual({ ok: "unknown" });
	});

	it("keeps every entry for its time at least, and drops whole generations after it", () => {
		let now = 0;
		const recent = new RecentMap<number>(100, () => now);
		for (now = 0; now < 1_000; now += 7) {
			recent.set(String(now), now);
			for (const age of [0, 50, 99]) if (now - age >= 0 && (now - age) % 7 === 0) expect(recent.get(String(now - age))).toBe(now - age);
		}
		expect(recent.get("0")).toBeUndefined();
		now += 1_000;
		expect(recent.get(String(994))).toBeUndefined();
	});

	it("remembers twice PAYMENT_UNKNOWN_AFTER_MS when the payments service chooses it", async () => {
		jest.useFakeTimers({ now: 0 });
		try {
			const sandbox = providerNamed("sandbox", { isProduction: false, allowSandboxInProduction: false, unknownAfterMs: 60_000 });
			const charged = await sandbox.charge({
				amount: 1000,
				currency: "USD",
				card: { number: SANDBOX_CARDS.succeeds, expMonth: 12, expYear: 2030, cvc: "123" },
				reference: "p1",
			});
			jest.setSystemTime(121_000);
			expect(await sandbox.status("p1")).toEqual(charged);
			jest.setSystemTime(500_000);
			expect(await sandbox.status("p1")).toEqual({ ok: "unknown" });
		} finally {
			jest.useRealTimers();
		}
	});
});

describe("choosing the provider", () => {
	it("refuses the sandbox in production unless it is allowed explicitly", () => {
		expect(() => providerNamed("sandbox", { isProduction: true, allowSandboxInProduction: false })).toThrow(/moves no money.*PAYMENT_ALLOW_SANDBOX/);
		expect(providerNamed("sandbox", { isProduction: true, allowSandboxInProduction: true }).name).toBe("sandbox");
	});

	it("finds the sandbox by name", () => {
		expect(providerNamed("sandbox").name).toBe("sandbox");
	});

	it("refuses an unknown name with an error that names it and the known ones", () => {
		expect(() => providerNamed("stripe")).toThrow(/Unknown payment provider "stripe".*sandbox/);
		expect(() => providerNamed("toString")).toThrow(/Unknown payment provider/);
	});
});
