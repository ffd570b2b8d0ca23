import { cardBrand, cardDigits, cardSummary, checkCard, cvcLength, fullYear, isExpired, last4, luhnValid, type CardInput } from "../../src/payments/cards";

/** Appends the Luhn check digit to a number's other digits. */
function withCheckDigit(body: string): string {
	for (let digit = 0; digit <= 9; digit += 1) if (luhnValid(body + digit)) return body + digit;
	throw new Error("unreachable");
}

const now = new Date("2026-03-15T12:00:00Z");
const valid: CardInput = { number: "4242424242424242", expMonth: 12, expYear: 2030, cvc: "123" };
const fieldsOf = (card: CardInput, at = now) => {
	const check = checkCard(card, at);
	return check.ok ? [] : check.problems.map(p => p.field).sort();
};

describe("Luhn", () => {
	it("accepts the well-known test numbers of every brand", () => {
		for (const number of [
			"4242424242424242",
			"4000000000000002",
			"4000000000009995",
			"5555555555554444",
			"2223003122003222",
			"378282246310005",
			"6011111111111117",
			"79927398713",
		]) {
			expect(luhnValid(number)).toBe(true);
		}
	});

	it("refuses a number with one digit changed or two swapped", () => {
		expect(luhnValid("4242424242424241")).toBe(false);
		expect(luhnValid("4242424242424224")).toBe(false);
		expect(luhnValid("79927398710")).toBe(false);
	});

	it("refuses anything that is not digits", () => {
		expect(luhnValid("")).toBe(false);
		expect(luhnValid("4242 4242 4242 4242")).toBe(false);
	});
});

describe("card number", () => {
	it("ignores spaces and dashes, and nothing else", () => {
		expect(cardDigits("4242 4242-4242 4242")).toBe("4242424242424242");
		expect(cardDigits("4242.4242.4242.4242")).toBeNull();
		expect(cardDigits("4242abcd42424242")).toBeNull();
	});

	it("takes 12 to 19 digits", () => {
		expect(fieldsOf({ ...valid, number: withCheckDigit("4".padEnd(11, "0")) })).toEqual([]);
		expect(fieldsOf({ ...valid, number: withCheckDigit("4".padEnd(18, "0")) })).toEqual([]);
		expect(fieldsOf({ ...valid, number: withCheckDigit("4".padEnd(10, "0")) })).toEqual(["card.number"]);
		expect(fieldsOf({ ...valid, number: withCheckDigit("4".padEnd(19, "0")) })).toEqual(["card.number"]);
	});

	it("refuses a number that fails Luhn, and says so without repeating it", () => {
		const check = checkCard({ ...valid, number: "4242 4242 4242 4241" }, now);
		expect(check.ok).toBe(false);
		expect(JSON.stringify(check)).not.toContain("4241");
		expect(fieldsOf({ ...valid, number: "" })).toEqual(["card.number"]);
	});
});

describe("brand and last four", () => {
	it.each([
		["4242424242424242", "visa"],
		["5555555555554444", "mastercard"],
		["2223003122003222", "mastercard"],
		["2720990000000007", "mastercard"],
		["378282246310005", "amex"],
		["341111111111111", "amex"],
		["6011111111111117", "discover"],
		["6445644564456445", "discover"],
		["6500000000000002", "discover"],
		["6221260000000000", "discover"],
		["3056930009020004", "unknown"],
		["2721000000000000", "unknown"],
		["9999999999999995", "unknown"],
	])("%s is %s", (number, brand) => {
		expect(cardBrand(number)).toBe(brand);
	});

	it("keeps the last four digits", () => {
		expect(last4("4242424242424242")).toBe("4242");
		expect(last4("378282246310005")).toBe("0005");
	});
});

describe("expiry", () => {
	it("is valid until the last moment of the expiry month (UTC)", () => {
		expect(isExpired(3, 2026, new Date("2026-03-31T23:59:59.999Z"))).toBe(false);
		expect(isExpired(3, 2026, new Date("2026-04-01T00:00:00.000Z"))).toBe(true);
		expect(isExpired(12, 2026, new Date("2026-12-31T23:59:59.999Z"))).toBe(false);
		expect(isExpired(12, 2026, new Date("2027-01-01T00:00:00.000Z"))).toBe(true);
	});

	it("accepts this month, names expMonth for an earlier month of this year and expYear for an earlier year", () => {
		expect(fieldsOf({ ...valid, expMonth: 3, expYear: 2026 })).toEqual([]);
		expect(fieldsOf({ ...valid, expMonth: 2, expYear: 2026 })).toEqual(["card.expMonth"]);
		expect(fieldsOf({ ...valid, expMonth: 12, expYear: 2025 })).toEqual(["card.expYear"]);
	});

	it("reads two-digit years as this century", () => {
		expect(fullYear(27)).toBe(2027);
		expect(fullYear(2027)).toBe(2027);
		expect(fieldsOf({ ...valid, expMonth: 4, expYear: 26 })).toEqual([]);
		const check = checkCard({ ...valid, expYear: 27 }, now);
		expect(check.ok && check.card.expYear).toBe(2027);
	});

	it("refuses a month outside 1..12 and a year that cannot be meant", () => {
		expect(fieldsOf({ ...valid, expMonth: 0 })).toEqual(["card.expMonth"]);
		expect(fieldsOf({ ...valid, expMonth: 13 })).toEqual(["card.expMonth"]);
		expect(fieldsOf({ ...valid, expMonth: 1.5 })).toEqual(["card.expMonth"]);
		expect(fieldsOf({ ...valid, expYear: 2077 })).toEqual(["card.expYear"]);
		expect(fieldsOf({ ...valid, expYear: -1 })).toEqual(["card.expYear"]);
	});

	it("uses the clock it is given", () => {
		const card = { ...valid, expMonth: 6, expYear: 2026 };
		expect(fieldsOf(card, new Date("2026-06-30T23:00:00Z"))).toEqual([]);
		expect(fieldsOf(card, new Date("2026-07-01T00:00:00Z"))).toEqual(["card.expMonth"]);
		expect(fieldsOf(card, new Date("2027-02-01T00:00:00Z"))).toEqual(["card.expYear"]);
	});
});

describe("CVC", () => {
	it("is three digits, four on an Amex card", () => {
		expect(cvcLength("visa")).toBe(3);
		expect(cvcLength("amex")).toBe(4);
		expect(cvcLength("unknown")).toBe(3);
		expect(fieldsOf({ ...valid, cvc: "123" })).toEqual([]);
		expect(fieldsOf({ ...valid, cvc: "1234" })).toEqual(["card.cvc"]);
		expect(fieldsOf({ ...valid, cvc: "12" })).toEqual(["card.cvc"]);
		expect(fieldsOf({ ...valid, cvc: "12a" })).toEqual(["card.cvc"]);
		expect(fieldsOf({ ...valid, number: "378282246310005", cvc: "1234" })).toEqual([]);
		expect(fieldsOf({ ...valid, number: "378282246310005", cvc: "123" })).toEqual(["card.cvc"]);
	});
});

describe("checkCard", () => {
	it("reports every bad field at once", () => {
		expect(fieldsOf({ number: "1234", expMonth: 13, expYear: 1990, cvc: "x" })).toEqual(["card.cvc", "card.expMonth", "card.expYear", "card.number"]);
	});

	it("gives the digits, brand and last four of a good card, and a summary without number or CVC", () => {
		const check = checkCard({ number: "4242-4242-4242-4242", expMonth: 12, expYear: 2030, cvc: "123" }, now);
		expect(check).toEqual({
			ok: true,
			card: { number: "4242424242424242", expMonth: 12, expYear: 2030, cvc: "123", brand: "visa", last4: "4242" },
		});
		expect(check.ok && cardSummary(check.card)).toEqual({ brand: "visa", last4: "4242", expMonth: 12, expYear: 2030 });
	});
});
