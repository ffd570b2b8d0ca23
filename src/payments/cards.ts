/**
 * Card checks, as pure functions: the number (digits, length, Luhn), the expiry, the CVC,
 * the brand and the last four digits. A card that fails here never reaches the provider
 * and is never stored. Problems are reported per field and never repeat the number.
 */
import type { FieldProblem } from "../errors";

export type CardBrand = "visa" | "mastercard" | "amex" | "discover" | "unknown";

/**
 * The `params` rule of a card, wherever one is taken (orders.create, payments.charge):
 * shape and sizes only; checkCard below judges the number, the expiry and the CVC, field by field.
 */
export const cardRule = {
	type: "object",
	strict: "remove",
	props: {
		number: { type: "string", min: 1, max: 32 },
		expMonth: { type: "number", integer: true, convert: true },
		expYear: { type: "number", integer: true, convert: true },
		cvc: { type: "string", min: 1, max: 4 },
	},
} as const;

/** A card as the client sends it. */
export type CardInput = { number: string; expMonth: number; expYear: number; cvc: string };

/** A card that passed every check: digits only, four-digit year, known brand. For the provider only. */
export type CheckedCard = { number: string; expMonth: number; expYear: number; cvc: string; brand: CardBrand; last4: string };

/** What of a card may be stored and shown. */
export type CardSummary = { brand: CardBrand; last4: string; expMonth: number; expYear: number };

export type CardCheck = { ok: true; card: CheckedCard } | { ok: false; problems: FieldProblem[] };

export const CARD_NUMBER_MIN_DIGITS = 12;
export const CARD_NUMBER_MAX_DIGITS = 19;
/** Expiry years further ahead than this are typing mistakes. */
export const MAX_YEARS_AHEAD = 50;

/** The digits of a card number with spaces and dashes removed, or null if anything else is in it. */
export function cardDigits(number: string): string | null {
	const digits = number.replace(/[\s-]/g, "");
	return /^\d+$/.test(digits) ? digits : null;
}

/** The Luhn (mod 10) checksum every card number carries in its last digit. */
export function luhnValid(digits: string): boolean {
	if (!/^\d+$/.test(digits)) return false;
	let sum = 0;
	for (let i = 0; i < digits.length; i += 1) {
		let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
		if (i % 2 === 1) {
			digit *= 2;
			if (digit > 9) digit -= 9;
		}
		sum += digit;
	}
	return sum % 10 === 0;
}

function prefixBetween(digits: string, length: number, from: number, to: number): boolean {
	if (digits.length < length) return false;
	const prefix = Number(digits.slice(0, length));
	return prefix >= from && prefix <= to;
}

/** The card network, from the number's leading digits (IIN ranges). */
export function cardBrand(digits: string): CardBrand {
	if (/^3[47]/.test(digits)) return "amex";
	if (/^4/.test(digits)) return "visa";
	if (prefixBetween(digits, 2, 51, 55) || prefixBetween(digits, 4, 2221, 2720)) return "mastercard";
	if (/^(6011|65)/.test(digits) || prefixBetween(digits, 3, 644, 649) || prefixBetween(digits, 6, 622126, 622925)) return "discover";
	return "unknown";
}

export function last4(digits: string): string {
	return digits.slice(-4);
}

/** Two-digit years (27) mean this century (2027). */
export function fullYear(expYear: number): number {
	return expYear >= 0 && expYear < 100 ? 2000 + expYear : expYear;
}

/** A card is valid until the end of its expiry month (UTC): expired from the first day of the next month. */
export function isExpired(expMonth: number, expYear: number, now: Date): boolean {
	// Date.UTC takes a 0-based month, so `expMonth` is the month after the expiry month.
	return now.getTime() >= Date.UTC(fullYear(expYear), expMonth, 1);
}

/** Four digits on an Amex card, three on the others. */
export function cvcLength(brand: CardBrand): 3 | 4 {
	return brand === "amex" ? 4 : 3;
}

function numberProblem(digits: string | null): string | null {
	if (digits === null) return "The card number may contain only digits, spaces and dashes";
	if (digits.length < CARD_NUMBER_MIN_DIGITS || digits.length > CARD_NUMBER_MAX_DIGITS) {
		return `The card number must have ${CARD_NUMBER_MIN_DIGITS} to ${CARD_NUMBER_MAX_DIGITS} digits`;
	}
	if (!luhnValid(digits)) return "The card number is not valid";
	return null;
}

/**
 * Checks every field of a card and reports all problems at once, each under its field
 * name (`card.number`, `card.expMonth`, `card.expYear`, `card.cvc`).
 */
export function checkCard(card: CardInput, now: Date, prefix = "card"): CardCheck {
	const problems: FieldProblem[] = [];
	const problem = (field: string, type: string, message: string) => problems.push({ field: `${prefix}.${field}`, type, message });

	const digits = typeof card.number === "string" ? cardDigits(card.number) : null;
	const numberIssue = numberProblem(digits);
	if (numberIssue) problem("number", "cardNumber", numberIssue);

	const { expMonth } = card;
	const expYear = Number.isInteger(card.expYear) ? fullYear(card.expYear) : NaN;
	const nowYear = now.getUTCFullYear();
	const monthValid = Number.isInteger(expMonth) && expMonth >= 1 && expMonth <= 12;
	const yearValid = Number.isInteger(expYear) && expYear >= 2000 && expYear <= nowYear + MAX_YEARS_AHEAD;
	if (!monthValid) problem("expMonth", "cardExpMonth", "The expiry month must be 1 to 12");
	if (!yearValid) problem("expYear", "cardExpYear", "The expiry year is not valid");
	if (monthValid && yearValid && isExpired(expMonth, expYear, now)) {
		// Name the field that is wrong: a past year, or a past month of this year.
		problem(expYear < nowYear ? "expYear" : "expMonth", "cardExpired", "The card has expired");
	}

	const brand = digits ? cardBrand(digits) : "unknown";
	const cvc = typeof card.cvc === "string" ? card.cvc.trim() : "";
	const wanted = cvcLength(brand);
	if (!new RegExp(`^\\d{${wanted}}$`).test(cvc)) problem("cvc", "cardCvc", `The security code must be ${wanted} digits`);

	if (problems.length > 0 || digits === null) return { ok: false, problems };
	return { ok: true, card: { number: digits, expMonth, expYear, cvc, brand, last4: last4(digits) } };
}

/** The part of a checked card that may be kept: never the number or the CVC. */
export function cardSummary(card: CheckedCard): CardSummary {
	return { brand: card.brand, last4: card.last4, expMonth: card.expMonth, expYear: card.expYear };
}
