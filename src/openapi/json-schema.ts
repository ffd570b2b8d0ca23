/**
 * fastest-validator rules (the `params` of an action) as JSON Schema 2020-12, the dialect
 * of OpenAPI 3.1. Covers the rule types the shop's actions use; a rule of another type
 * becomes the empty schema (anything), so the document never claims more than it knows.
 */

export type JsonSchema = { [keyword: string]: unknown };

/** A fastest-validator rule: an object with `type`, a shorthand like "string|optional", or alternatives. */
export type Rule = string | { type?: string; [key: string]: unknown } | Rule[];

type ObjectRule = { type?: string; optional?: boolean; default?: unknown; [key: string]: unknown };

function normalize(rule: Rule): ObjectRule | ObjectRule[] {
	if (Array.isArray(rule)) return rule.map(r => normalize(r) as ObjectRule);
	if (typeof rule !== "string") return rule;
	// Shorthand: "type|key|key:value", e.g. "string|optional|max:20".
	const [type, ...flags] = rule.split("|");
	const parsed: ObjectRule = { type };
	for (const flag of flags) {
		const [key, value] = flag.split(":");
		parsed[key] = value === undefined ? true : Number.isNaN(Number(value)) ? value : Number(value);
	}
	return parsed;
}

/** True when a value may be left out: `optional`, or filled in by a `default`. */
export function isOptional(rule: Rule): boolean {
	const r = normalize(rule);
	if (Array.isArray(r)) return r.some(isOptional);
	return r.optional === true || r.default !== undefined;
}

/** A RegExp stays one in-process and arrives as `{}` from another node: only its source can be told. */
function patternOf(value: unknown): string | undefined {
	if (value instanceof RegExp) return value.source;
	return typeof value === "string" ? value : undefined;
}

function withBounds(schema: JsonSchema, rule: ObjectRule, min: string, max: string): JsonSchema {
	if (typeof rule.min === "number") schema[min] = rule.min;
	if (typeof rule.max === "number") schema[max] = rule.max;
	return schema;
}

function typed(rule: ObjectRule): JsonSchema | null {
	switch (rule.type) {
		case "string": {
			const schema = withBounds({ type: "string" }, rule, "minLength", "maxLength");
			const pattern = patternOf(rule.pattern);
			if (pattern) schema.pattern = pattern;
			if (Array.isArray(rule.enum)) schema.enum = rule.enum;
			return schema;
		}
		case "email":
			return withBounds({ type: "string", format: "email" }, rule, "minLength", "maxLength");
		case "number": {
			const schema = withBounds({ type: rule.integer ? "integer" : "number" }, rule, "minimum", "maximum");
			if (rule.positive) schema.exclusiveMinimum = 0;
			if (rule.negative) schema.exclusiveMaximum = 0;
			if (typeof rule.notEqual === "number") schema.not = { const: rule.notEqual };
			return schema;
		}
		case "boolean":
			return { type: "boolean" };
		case "date":
			return { type: "string", format: "date-time" };
		case "enum":
			return { enum: rule.values };
		case "array": {
			const schema = withBounds({ type: "array" }, rule, "minItems", "maxItems");
			if (rule.items) schema.items = toJsonSchema(rule.items as Rule);
			return schema;
		}
		case "object": {
			if (!rule.props) return { type: "object" };
			const schema = objectSchema(rule.props as Record<string, Rule>);
			if (rule.strict === true) schema.additionalProperties = false;
			return schema;
		}
		case "forbidden":
			return null;
		default:
			return {};
	}
}

/** One rule as a JSON Schema; null for a `forbidden` rule (the property must be absent). */
export function toJsonSchema(rule: Rule): JsonSchema | null {
	const r = normalize(rule);
	if (Array.isArray(r)) {
		const alternatives = r.map(toJsonSchema).filter((s): s is JsonSchema => s !== null);
		return { anyOf: alternatives };
	}
	const schema = typed(r);
	if (schema && r.default !== undefined && typeof r.default !== "function") schema.default = r.default;
	return schema;
}

/** The props of an object rule, or an action's whole `params`, as an object schema. */
export function objectSchema(props: Record<string, Rule>): JsonSchema {
	const properties: Record<string, JsonSchema> = {};
	const required: string[] = [];
	for (const [name, rule] of Object.entries(props)) {
		// "$$strict", "$$async" and the like are options of the validator, not fields.
		if (name.startsWith("$$")) continue;
		const schema = toJsonSchema(rule);
		if (!schema) continue;
		properties[name] = schema;
		if (!isOptional(rule)) required.push(name);
	}
	return { type: "object", properties, ...(required.length ? { required } : {}) };
}
