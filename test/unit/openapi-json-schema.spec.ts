import { isOptional, objectSchema, toJsonSchema } from "../../src/openapi/json-schema";
import { pageParams } from "../../src/pagination";

describe("fastest-validator rules as JSON Schema", () => {
	it("keeps the bounds, pattern and default of strings and numbers", () => {
		expect(toJsonSchema({ type: "string", min: 1, max: 64, pattern: /^\d+$/ })).toEqual({ type: "string", minLength: 1, maxLength: 64, pattern: "^\\d+$" });
		expect(toJsonSchema({ type: "number", integer: true, min: 1, max: 100, default: 10 })).toEqual({ type: "integer", minimum: 1, maximum: 100, default: 10 });
		expect(toJsonSchema({ type: "number", positive: true })).toEqual({ type: "number", exclusiveMinimum: 0 });
		expect(toJsonSchema({ type: "number", integer: true, notEqual: 0 })).toEqual({ type: "integer", not: { const: 0 } });
	});

	it("turns emails, enums, booleans and dates into their JSON Schema forms", () => {
		expect(toJsonSchema({ type: "email", max: 254 })).toEqual({ type: "string", format: "email", maxLength: 254 });
		expect(toJsonSchema({ type: "enum", values: ["card"] })).toEqual({ enum: ["card"] });
		expect(toJsonSchema({ type: "boolean" })).toEqual({ type: "boolean" });
		expect(toJsonSchema({ type: "date" })).toEqual({ type: "string", format: "date-time" });
	});

	it("describes nested objects and arrays, strict objects closed", () => {
		const rule = {
			type: "array",
			min: 1,
			items: { type: "object", strict: true, props: { productId: { type: "string" }, note: { type: "string", optional: true } } },
		};
		expect(toJsonSchema(rule)).toEqual({
			type: "array",
			minItems: 1,
			items: { type: "object", properties: { productId: { type: "string" }, note: { type: "string" } }, required: ["productId"], additionalProperties: false },
		});
	});

	it("reads shorthand rules and alternatives", () => {
		expect(toJsonSchema("string|optional|max:20")).toEqual({ type: "string", maxLength: 20 });
		expect(isOptional("string|optional")).toBe(true);
		expect(toJsonSchema([{ type: "string" }, { type: "number" }])).toEqual({ anyOf: [{ type: "string" }, { type: "number" }] });
	});

	it("leaves out forbidden fields and validator options, and requires only what has no default", () => {
		const schema = objectSchema({
			$$strict: true as never,
			name: { type: "string" },
			stock: { type: "forbidden" },
			...pageParams,
			interval: { type: "enum", values: ["day"], default: "day" },
		});
		expect(Object.keys(schema.properties as object)).toEqual(["name", "page", "pageSize", "interval"]);
		expect(schema.required).toEqual(["name"]);
	});

	it("says nothing it does not know: a RegExp that lost itself crossing the network, an unknown type", () => {
		expect(toJsonSchema({ type: "string", pattern: {} })).toEqual({ type: "string" });
		expect(toJsonSchema({ type: "custom" })).toEqual({});
	});
});
