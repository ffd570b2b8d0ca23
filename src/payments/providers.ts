/**
 * The payment providers this shop knows, by the name PAYMENT_PROVIDER gives. The sandbox
 * moves no money, so in production it runs only when PAYMENT_ALLOW_SANDBOX says so.
 */
import type { PaymentProvider } from "./provider";
import { createSandboxProvider } from "./sandbox-provider";

export type ProviderChoice = {
	name: string;
	isProduction: boolean;
	allowSandboxInProduction: boolean;
	/** PAYMENT_UNKNOWN_AFTER_MS: the sandbox remembers a charge twice as long, so that it can still answer for it. */
	unknownAfterMs?: number;
};

const PROVIDERS: Record<string, (choice: Omit<ProviderChoice, "name">) => PaymentProvider> = {
	sandbox: ({ unknownAfterMs }) => createSandboxProvider(unknownAfterMs ? { rememberMs: 2 * unknownAfterMs } : {}),
};

/** The provider of that name; an unknown name, or the sandbox in production unasked, is a configuration error the service refuses to start with. */
export function providerNamed(name: string, choice: Omit<ProviderChoice, "name"> = { isProduction: false, allowSandboxInProduction: false }): PaymentProvider {
	const create = Object.hasOwn(PROVIDERS, name) ? PROVIDERS[name] : undefined;
	if (!create) {
		throw new Error(`Unknown payment provider "${name}" (PAYMENT_PROVIDER); known providers: ${Object.keys(PROVIDERS).join(", ")}`);
	}
	if (name === "sandbox" && choice.isProduction && !choice.allowSandboxInProduction) {
		throw new Error(
			"The sandbox payment provider moves no money: in production set PAYMENT_PROVIDER to a real provider, or PAYMENT_ALLOW_SANDBOX=true for a demo",
		);
	}
	return create(choice);
}
