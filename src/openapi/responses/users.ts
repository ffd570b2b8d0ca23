import type { ActionDocs } from "../action-doc";
import { page, ref } from "../schemas";

export const usersDocs: ActionDocs = {
	"users.register": {
		summary: "Create an account",
		description: "Answers the new user and a token for it.",
		status: 201,
		body: ref("Session"),
		headers: { Location: { description: "Where the new user is read", schema: { type: "string" } } },
		responses: { 409: { description: "The email is taken (`EMAIL_TAKEN`)" } },
	},
	"users.login": {
		summary: "Sign in",
		body: ref("Session"),
		responses: { 401: { description: "Wrong email or password, alike (`INVALID_CREDENTIALS`)" } },
	},
	"users.me": { summary: "The signed-in user", body: ref("User") },
	"users.update": {
		summary: "Change name or password",
		description: "A new password needs `currentPassword`, and ends every session.",
		body: ref("User"),
		responses: { 429: { description: "Too many password checks for this account; try again later" } },
	},
	"users.summary": {
		summary: "The user with order count, total spent and recent orders and payments",
		body: {
			type: "object",
			properties: {
				user: ref("User"),
				orderCount: { type: "integer", minimum: 0 },
				totalSpent: { type: "object", additionalProperties: { type: "integer" }, description: "Minor units per currency" },
				recentOrders: { type: "array", items: ref("Order") },
				recentPayments: { type: "array", items: ref("Payment") },
			},
			required: ["user", "orderCount", "totalSpent", "recentOrders", "recentPayments"],
			additionalProperties: false,
		},
	},
	"users.list": { summary: "A page of users", body: page(ref("User")) },
	"users.get": { summary: "One user", body: ref("User") },
};
