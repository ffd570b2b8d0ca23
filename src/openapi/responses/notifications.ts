import type { ActionDocs } from "../action-doc";
import { page, ref } from "../schemas";

export const notificationsDocs: ActionDocs = {
	"notifications.list": {
		summary: "Own notifications, newest first, with the unread count",
		body: page(ref("Notification"), { unread: { type: "integer", minimum: 0 } }),
	},
	"notifications.markRead": { summary: "Mark one notification read", body: ref("Notification") },
	"notifications.markAllRead": {
		summary: "Mark every own notification read",
		body: { type: "object", properties: { updated: { type: "integer", minimum: 0 } }, required: ["updated"], additionalProperties: false },
	},
	"notifications.broadcastPromotion": {
		summary: "Send a promotion to every user",
		description: "Accepted at once; the notifications (and mails) go out in batches.",
		status: 202,
		body: { type: "object", properties: { promotionId: { type: "string" } }, required: ["promotionId"], additionalProperties: false },
	},
};
