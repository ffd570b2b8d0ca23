/**
 * The shapes the API answers with, as JSON Schema (OpenAPI 3.1 components). Objects list
 * every field they may carry and no other (`additionalProperties: false`): a field added
 * to a view without its schema, or one that should never leave a service, fails the
 * contract tests.
 */
import { CURRENCIES } from "../money";
import { NOTIFICATION_KINDS } from "../notifications/notification";
import { ORDER_STATUSES } from "../orders/order-state";
import { PAYMENT_STATUSES } from "../payments/payment";
import { ROLES } from "../types";
import type { JsonSchema } from "./json-schema";

/** A reference to one of the named schemas below. */
export function ref(name: keyof typeof COMPONENT_SCHEMAS): JsonSchema {
	return { $ref: `#/components/schemas/${name}` };
}

function object(properties: Record<string, JsonSchema>, optional: string[] = []): JsonSchema {
	return {
		type: "object",
		properties,
		required: Object.keys(properties).filter(name => !optional.includes(name)),
		additionalProperties: false,
	};
}

const id: JsonSchema = { type: "string" };
const timestamp: JsonSchema = { type: "string", format: "date-time" };
const amount: JsonSchema = { type: "integer", minimum: 0, description: "Minor units (cents)" };
const count: JsonSchema = { type: "integer", minimum: 0 };
const nullable = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, { type: "null" }] });
const arrayOf = (items: JsonSchema): JsonSchema => ({ type: "array", items });
/** An amount per ISO currency code, e.g. `{ "USD": 1250 }`. */
const amountsByCurrency: JsonSchema = { type: "object", additionalProperties: amount };

/** One page of a list: the rows and where they sit in the whole. */
export function page(row: JsonSchema, extra: Record<string, JsonSchema> = {}): JsonSchema {
	return object({
		rows: arrayOf(row),
		total: count,
		page: { type: "integer", minimum: 1 },
		pageSize: { type: "integer", minimum: 1 },
		totalPages: count,
		...extra,
	});
}

export const COMPONENT_SCHEMAS = {
	Error: {
		type: "object",
		description: "Every error answer. `code` repeats the HTTP status; validation errors list the fields in `data`.",
		properties: {
			name: { type: "string", examples: ["ValidationError"] },
			message: { type: "string" },
			code: { type: "integer", minimum: 400, maximum: 599 },
			type: { type: "string", examples: ["INVALID_INPUT", "OUT_OF_STOCK"] },
			data: {},
		},
		required: ["name", "message", "code"],
		additionalProperties: false,
	},

	User: object({
		id,
		email: { type: "string", format: "email" },
		name: { type: "string" },
		role: { enum: [...ROLES] },
		createdAt: timestamp,
		updatedAt: timestamp,
	}),
	Session: object({
		user: { $ref: "#/components/schemas/User" },
		token: { type: "string", description: "Send it as `Authorization: Bearer <token>`" },
	}),

	Product: object({
		id,
		name: { type: "string" },
		description: { type: "string" },
		price: amount,
		currency: { enum: [...CURRENCIES] },
		category: { type: "string" },
		stock: count,
		active: { type: "boolean" },
		createdAt: timestamp,
		updatedAt: timestamp,
	}),

	Order: object({
		id,
		userId: id,
		status: { enum: [...ORDER_STATUSES] },
		items: arrayOf(object({ productId: id, name: { type: "string" }, unitPrice: amount, quantity: { type: "integer", minimum: 1 }, lineTotal: amount })),
		total: amount,
		currency: { type: "string" },
		paymentId: nullable(id),
		reason: nullable({ type: "string" }),
		history: arrayOf(object({ status: { enum: [...ORDER_STATUSES] }, at: timestamp })),
		createdAt: timestamp,
		updatedAt: timestamp,
	}),

	Payment: object(
		{
			id,
			orderId: id,
			userId: id,
			amount,
			currency: { type: "string" },
			status: { enum: [...PAYMENT_STATUSES] },
			card: object({ brand: { type: "string" }, last4: { type: "string", pattern: "^\\d{4}$" } }),
			failureReason: { type: "string" },
			refundedAmount: amount,
			createdAt: timestamp,
			updatedAt: timestamp,
		},
		["failureReason"],
	),

	Notification: object({
		id,
		kind: { enum: [...NOTIFICATION_KINDS] },
		title: { type: "string" },
		body: { type: "string" },
		read: { type: "boolean" },
		createdAt: timestamp,
	}),

	AnalyticsSummary: object({
		orders: count,
		revenue: amountsByCurrency,
		signups: count,
		paymentFailures: count,
		refunds: object({ count, amount: amountsByCurrency }),
		cancellations: count,
		eventsRecorded: count,
	}),
	SalesDay: object({ date: { type: "string", format: "date" }, orders: count, revenue: amountsByCurrency }),
	TopProduct: object({ productId: id, name: { type: "string" }, units: count, revenue: amount, currency: { type: "string" } }),
	LoggedEvent: object({ eventId: id, type: { type: "string", examples: ["order.paid"] }, at: timestamp, data: {} }),

	Node: object({
		id,
		hostname: nullable({ type: "string" }),
		addresses: arrayOf({ type: "string" }),
		available: { type: "boolean" },
		local: { type: "boolean" },
		lastHeartbeat: timestamp,
		startedAt: nullable(timestamp),
		uptime: nullable({ type: "integer" }),
		cpu: nullable({ type: "number" }),
		moleculer: nullable({ type: "string" }),
		services: arrayOf({ type: "string" }),
	}),
	ServiceSummary: object({ name: { type: "string" }, version: nullable({ type: ["string", "number"] }), instances: count, nodes: arrayOf({ type: "string" }) }),
	ServiceDetail: object({
		name: { type: "string" },
		version: nullable({ type: ["string", "number"] }),
		instances: count,
		nodes: arrayOf({ type: "string" }),
		actions: arrayOf(object({ name: { type: "string" }, rest: {}, auth: nullable({ type: "string" }), visibility: { type: "string" } })),
		events: arrayOf(object({ name: { type: "string" }, group: nullable({ type: "string" }) })),
	}),
	ClusterHealth: object({
		status: { enum: ["healthy", "degraded"] },
		services: arrayOf(object({ name: { type: "string" }, instances: count })),
		missing: arrayOf({ type: "string" }),
	}),
	BusinessEvent: object({ id, type: { type: "string", examples: ["order.paid"] }, at: timestamp, data: {}, requestId: { type: "string" } }, ["requestId"]),
	DeadLetter: object({
		id: { type: "string", description: "The dead letter's id (not the event's)" },
		group: { type: "string", description: "The consuming service that gave up on the event" },
		event: { $ref: "#/components/schemas/BusinessEvent" },
		error: { type: "string", description: "The handler's last error" },
		failedAt: timestamp,
		deliveries: { type: "integer", minimum: 1 },
	}),
	MembershipChange: object({ at: timestamp, nodeID: { type: "string" }, change: { enum: ["joined", "rejoined", "left", "lost"] } }),

	Liveness: object({ status: { const: "ok" }, nodeID: { type: "string" }, uptime: count }),
	Readiness: object({ status: { enum: ["ready", "not ready"] }, missing: arrayOf({ type: "string" }) }),
} satisfies Record<string, JsonSchema>;
