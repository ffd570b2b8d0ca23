/** The words for each reason a card is declined: one table for the 402's message, the provider and the notices. */
import type { DeclineReason } from "../events";

export const DECLINE_MESSAGES: Record<DeclineReason, string> = {
	card_declined: "The card was declined",
	insufficient_funds: "The card has insufficient funds",
	expired_card: "The card has expired",
	incorrect_cvc: "The card's security code is incorrect",
	processing_error: "The card could not be charged",
};

/** The message as a clause inside a sentence ("... failed: the card was declined."); a reason it does not know reads as a decline. */
export function declineClause(reason: string): string {
	const message = DECLINE_MESSAGES[reason as DeclineReason] ?? DECLINE_MESSAGES.card_declined;
	return message.charAt(0).toLowerCase() + message.slice(1);
}
