/** The shop's REPL commands against a running shop: pending orders and the stock of a product. */
import type { Context, Middleware, ServiceBroker } from "moleculer";
import brokerConfig from "../../moleculer.config";
import { DurableEvents } from "../../mixins/durable-events.mixin";
import { replCommands, SHOP_COMMANDS, type CommandArgs } from "../../src/repl/commands";
import { ALL_SERVICES, freshNamespace, gatewayUrl, startNode, waitFor, waitForRoutes } from "../helpers/cluster";
import { adminToken, client, newCustomer, type Client } from "../helpers/http";

/** Holds every charge until released: orders stay pending meanwhile, as when a provider is slow. */
function chargeGate() {
	let open!: () => void;
	const opened = new Promise<void>(resolve => (open = resolve));
	const middleware: Middleware = {
		name: "ChargeGate",
		localAction: (next, action) => {
			if (action.name !== "payments.charge") return next;
			const handler = next as unknown as (ctx: Context) => Promise<unknown>;
			return ((ctx: Context) => opened.then(() => handler(ctx))) as unknown as typeof next;
		},
	};
	return { middleware, open };
}

const gate = chargeGate();
let broker: ServiceBroker;
let api: Client;
let productId: string;

async function run(name: string, args: CommandArgs): Promise<string> {
	const command = SHOP_COMMANDS.find(c => c.command.split(" ")[0] === name)!;
	return command.run(broker, args);
}

beforeAll(async () => {
	broker = await startNode({
		nodeID: "repl-shop",
		namespace: freshNamespace(),
		services: Object.keys(ALL_SERVICES),
		brokerOptions: { middlewares: [...(brokerConfig.middlewares ?? []), gate.middleware] },
	});
	await waitForRoutes(gatewayUrl(broker));
	api = client(gatewayUrl(broker));
	const admin = await adminToken(api);
	productId = (await api.post("/api/products", { name: "Operator's mug", price: 1500, currency: "EUR", category: "tests", stock: 4 }, { token: admin })).body
		.id;
});
afterAll(() => broker.stop());

it("stock <productId> shows a product's stock, and says so for an unknown one", async () => {
	expect(await run("stock", { productId })).toMatch(
		new RegExp(`^product\\s+name\\s+stock\\s+price\\s+state\\n${productId}\\s+Operator's mug\\s+4\\s+€15\\.00\\s+active$`),
	);
	expect(await run("stock", { productId: "no-such-product" })).toBe("No product no-such-product.");
});

it("orders lists the pending orders, then, once paid, the paid ones", async () => {
	expect(await run("orders", {})).toBe("No pending orders.");

	const { token, user } = await newCustomer(api);
	const card = { method: "card", card: { number: "4242424242424242", expMonth: 12, expYear: new Date().getFullYear() + 2, cvc: "123" } };
	const placing = api.post("/api/orders", { items: [{ productId, quantity: 3 }], payment: card }, { token });

	const pending = await waitFor(async () => {
		const text = await run("orders", { status: "pending" });
		return text.includes(user.id) ? text : undefined;
	}, "the pending order");
	expect(pending).toMatch(/€45\.00/);
	expect(pending).toMatch(/1 pending order\.$/);
	expect(await run("stock", { productId })).toMatch(/\s1\s+€15\.00/);

	gate.open();
	const placed = await placing;
	expect(placed.status).toBe(201);
	expect(await run("orders", {})).toBe("No pending orders.");
	expect(await run("orders", { status: "paid", options: { limit: "5" } })).toContain(placed.body.id);
});

it("dead-letters lists what a service gave up on, replay sends it again, and outbox shows what writes still owe", async () => {
	expect(await run("dead-letters", {})).toBe("No dead letters.");
	expect(await run("replay", { deadLetterId: "999" })).toBe("No dead letter 999.");
	const failing = { id: "", calls: 0 };
	broker.createService({
		name: "fragile-reader",
		mixins: [DurableEvents],
		durableEvents: {
			async "promotion.created"(event) {
				failing.calls += 1;
				if (!failing.id) throw new Error("cannot read promotions yet");
				failing.id = event.id;
			},
		},
	});
	await broker.waitForServices("fragile-reader");
	const admin = await adminToken(api);
	expect((await api.post("/api/promotions", { title: "Sale", message: "Now" }, { token: admin })).status).toBe(202);
	const listed = await waitFor(async () => {
		const text = await run("dead-letters", {});
		return text.includes("fragile-reader") ? text : undefined;
	}, "the dead letter");
	expect(listed).toMatch(/promotion\.created/);
	const id = listed.split("\n")[1].split(/\s+/)[0];
	failing.id = "ready";
	expect(await run("replay", { deadLetterId: id })).toBe(`Dead letter ${id} replayed.`);
	await waitFor(() => (failing.id !== "ready" ? true : undefined), "the replayed event");
	// The dead letter goes once every service has the replayed event.
	await waitFor(async () => ((await run("dead-letters", {})) === "No dead letters." ? true : undefined), "no dead letters");
	expect(await run("outbox", {})).toMatch(/^service\s+documents\s+events\nusers\s+0\s+0/);
});

it("orders refuses a status that does not exist", async () => {
	expect(await run("orders", { status: "lost" })).toMatch(/^Unknown status "lost"; one of: pending, paid/);
});

it("are given to moleculer-repl as custom commands that print what they answer", async () => {
	let printed = "";
	const commands = replCommands(SHOP_COMMANDS, { write: text => (printed += text) });
	const names = ["orders [status]", "stock <productId>", "dead-letters", "replay <deadLetterId>", "outbox"];
	expect(commands.map(c => c.command)).toEqual(names);
	expect(brokerConfig.replOptions?.customCommands?.map(c => c.command)).toEqual(names);
	await commands[1].action(broker, { productId } as never, {});
	expect(printed).toMatch(/Operator's mug/);
});
