/**
 * Shop commands for the Moleculer REPL (`npm run dev`, `npm run cli`), next to its own
 * (`services`, `nodes`, `call`, ...). Each command is a name, its arguments and a `run`
 * that answers the text to print; add one by adding it to SHOP_COMMANDS.
 *
 * The REPL speaks to the services as the cluster does, not through the gateway: actions
 * that need a caller see an operator with the admin role.
 */
import type { BrokerOptions, ServiceBroker } from "moleculer";
import { formatMoney } from "../money";
import { ORDER_STATUSES } from "../orders/order-state";
import type { AuthUser } from "../types";

/** What moleculer-repl passes a command: its arguments by name, and `--options`. */
export type CommandArgs = { options?: Record<string, unknown> } & Record<string, unknown>;

export type ShopCommand = {
	/** commander syntax: "orders [status]", "stock <productId>". */
	command: string;
	description: string;
	options?: { option: string; description: string }[];
	run(broker: ServiceBroker, args: CommandArgs): Promise<string>;
};

export const OPERATOR: AuthUser = { id: "repl", email: "repl@localhost", name: "REPL operator", role: "admin" };
const asOperator = { meta: { user: OPERATOR } };

type Row = Record<string, string | number>;

/** Rows as aligned columns under a header. */
export function columns(rows: Row[]): string {
	if (rows.length === 0) return "";
	const keys = Object.keys(rows[0]);
	const width = (key: string) => Math.max(key.length, ...rows.map(row => String(row[key]).length));
	const line = (cells: string[]) =>
		cells
			.map((cell, i) => cell.padEnd(width(keys[i])))
			.join("  ")
			.trimEnd();
	return [line(keys), ...rows.map(row => line(keys.map(key => String(row[key]))))].join("\n");
}

type OrderRow = { id: string; userId: string; status: string; total: number; currency: string; items: unknown[]; createdAt: string; reason: string | null };

const orders: ShopCommand = {
	command: "orders [status]",
	description: `Orders in a status (${ORDER_STATUSES.join(", ")}); pending by default, newest first`,
	options: [{ option: "-l, --limit <count>", description: "How many (default 20, at most 100)" }],
	async run(broker, args) {
		const status = String(args.status ?? "pending");
		if (!(ORDER_STATUSES as readonly string[]).includes(status)) return `Unknown status "${status}"; one of: ${ORDER_STATUSES.join(", ")}`;
		const pageSize = Math.min(100, Math.max(1, Number(args.options?.limit ?? 20) || 20));
		const page = await broker.call<{ rows: OrderRow[]; total: number }, object>("orders.list", { status, pageSize }, asOperator);
		if (page.total === 0) return `No ${status} orders.`;
		const table = columns(
			page.rows.map(order => ({
				order: order.id,
				user: order.userId,
				total: formatMoney({ amount: order.total, currency: order.currency }),
				items: order.items.length,
				created: order.createdAt,
				...(order.reason ? { reason: order.reason } : {}),
			})),
		);
		return `${table}\n${page.total} ${status} order${page.total === 1 ? "" : "s"}${page.total > page.rows.length ? `, the newest ${page.rows.length} shown` : ""}.`;
	},
};

type ProductRow = { id: string; name: string; stock: number; active: boolean; price: number; currency: string };

const stock: ShopCommand = {
	command: "stock <productId>",
	description: "Stock of a product, by id (a removed one too)",
	async run(broker, args) {
		const id = String(args.productId);
		const [product] = await broker.call<ProductRow[], object>("catalog.getMany", { ids: [id] });
		if (!product) return `No product ${id}.`;
		const { name, stock, price, currency, active } = product;
		return columns([{ product: id, name, stock, price: formatMoney({ amount: price, currency }), state: active ? "active" : "removed" }]);
	},
};

type DeadLetterRow = { id: string; group: string; event: { id: string; type: string; at: string }; error: string; failedAt: string; deliveries: number };

const deadLetters: ShopCommand = {
	command: "dead-letters",
	description: "Business events a service gave up on, oldest first (replay one with: replay <id>)",
	async run(broker) {
		const { rows } = await broker.call<{ rows: DeadLetterRow[] }, object>("discovery.deadLetters", { limit: 100 }, asOperator);
		if (rows.length === 0) return "No dead letters.";
		const table = columns(
			rows.map(letter => ({
				id: letter.id,
				service: letter.group,
				event: letter.event.type,
				eventId: letter.event.id,
				failed: letter.failedAt,
				tries: letter.deliveries,
				error: letter.error.slice(0, 60),
			})),
		);
		return `${table}\n${rows.length} dead letter${rows.length === 1 ? "" : "s"}.`;
	},
};

const replay: ShopCommand = {
	command: "replay <deadLetterId>",
	description: "Sends a dead letter's event again (only the service that gave up acts on it) and drops the dead letter",
	async run(broker, args) {
		const id = String(args.deadLetterId);
		try {
			await broker.call("discovery.replayDeadLetter", { id }, asOperator);
			return `Dead letter ${id} replayed.`;
		} catch (err) {
			return (err as { code?: number }).code === 404 ? `No dead letter ${id}.` : `Not replayed: ${String(err)}`;
		}
	},
};

const OUTBOX_SERVICES = ["users", "catalog", "orders", "payments"];

const outbox: ShopCommand = {
	command: "outbox",
	description: "Events the services' writes owe and have not published yet",
	async run(broker) {
		const backlogs = await Promise.all(
			OUTBOX_SERVICES.map(service =>
				broker
					.call<{ service: string; documents: number; events: number }>(`${service}.outboxBacklog`)
					.catch(() => ({ service, documents: "-", events: "not reachable" })),
			),
		);
		return columns(backlogs.map(({ service, documents, events }) => ({ service, documents, events })));
	},
};

export const SHOP_COMMANDS: ShopCommand[] = [orders, stock, deadLetters, replay, outbox];

type ReplCustomCommand = NonNullable<NonNullable<BrokerOptions["replOptions"]>["customCommands"]>[number];

/** moleculer-repl's form of the commands (broker option replOptions.customCommands), printing to `out`. */
export function replCommands(commands: ShopCommand[] = SHOP_COMMANDS, out: { write(text: string): unknown } = process.stdout): ReplCustomCommand[] {
	return commands.map(({ command, description, options, run }) => ({
		command,
		description,
		options,
		// (moleculer-repl passes the arguments by name in an object; Moleculer's typings say string[].)
		async action(broker, args) {
			out.write(`${await run(broker, args as unknown as CommandArgs)}\n`);
		},
	}));
}
