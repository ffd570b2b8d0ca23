// Lint rules: ESLint's and typescript-eslint's recommended sets, for the TypeScript sources.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
	{ ignores: ["dist/", "node_modules/", "coverage/", "data/", ".cache/", "jest*.config.js"] },
	js.configs.recommended,
	...tseslint.configs.recommended,
	{
		files: ["**/*.ts", "**/*.tsx"],
		rules: {
			"@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", ignoreRestSiblings: true }],
			eqeqeq: ["error", "always"],
			"no-console": "error",
		},
	},
	{
		files: ["**/*.cjs"],
		languageOptions: { sourceType: "commonjs", globals: { process: "readonly", require: "readonly", module: "writable", setInterval: "readonly" } },
	},
	{
		// Test helpers read untyped JSON replies; `any` there keeps the assertions short.
		files: ["test/**/*.ts", "bench/**/*.ts"],
		rules: { "@typescript-eslint/no-explicit-any": "off", "@typescript-eslint/no-non-null-assertion": "off" },
	},
	{
		// The benchmark is a command-line tool: its output is the point.
		files: ["bench/**/*.ts"],
		rules: { "no-console": "off" },
	},
);
