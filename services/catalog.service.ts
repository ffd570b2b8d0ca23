/**
 * catalog: products, prices and stock. Shoppers browse active products; admins edit
 * them; the order flow reserves and releases stock, each with one atomic conditional
 * update so that stock never goes below zero, whatever the number of instances. What each
 * order holds lives in `catalog_holds`, a collection of its own (src/catalog/stock.ts).
 */
import type { ServiceSchema } from "moleculer";
import { DbMixin, type DbMethods } from "../mixins/db.mixin";
import { browseQuery, sortFields, type BrowseRequest } from "../src/catalog/browse";
import { DEMO_PRODUCTS } from "../src/catalog/demo-products";
import {
	browseRules,
	deltaRule,
	idsRule,
	initialStockRule,
	optional,
	orderIdRule,
	productFieldRules,
	productIdRule,
	quantityRule,
} from "../src/catalog/params";
import {
	newProduct,
	productChanges,
	productEventData,
	productView,
	type NewProductFields,
	type Product,
	type ProductChanges,
	type ProductView,
} from "../src/catalog/products";
import {
	adjustUpdate,
	lowStockRecovered,
	lowStockReport,
	reconcileHold,
	releaseStock,
	reserveStock,
	settleStock,
	type ConditionalUpdate,
	type Hold,
	type StockStore,
} from "../src/catalog/stock";
import { config } from "../src/config";
import { ConflictError, NotFoundError } from "../src/errors";
import { DurableEvents, type DurableEventsMethods } from "../mixins/durable-events.mixin";
import { outboxOnInsert, withOutbox } from "../src/durable-events/outbox";
import { newEvent } from "../src/events";
import { countRefusedReservation } from "../src/metrics";
import { mapPage, pageParams, type Page, type PageRequest } from "../src/pagination";
import { openCollection, type Collection } from "../src/storage/collection";
import type { AppContext } from "../src/types";

type StockRequest = { productId: string; quantity: number; orderId: string };
type StockResult = { productId: string; quantity: number; stock: number };

type Methods = DbMethods &
	DurableEventsMethods & {
		productOr404(id: string): Promise<Product>;
		/** inventory.low if the product is below the threshold and not reported yet; forgets the report once it is back above. */
		checkLowStock(product: Product): Promise<void>;
		/** Reports, or forgets, low stock that a crash between a stock change and its check left unreported. */
		sweepLowStock(): Promise<void>;
		/** Gives back what orders given up still hold, lets delivered orders' holds go, and finishes changes left half-done: holds only of orders in play remain. */
		reconcileHolds(): Promise<number>;
		applyStockUpdate(productId: string, change: ConditionalUpdate): Promise<boolean>;
		stockStore(): StockStore;
		seedDatabase(): Promise<void>;
	};

type Vars = { holds: Collection<Hold>; sweepTimer?: NodeJS.Timeout; holdsTimer?: NodeJS.Timeout };

const CatalogService: ServiceSchema<{ rest: string }, Methods, Vars> = {
	name: "catalog",

	mixins: [
		DurableEvents,
		DbMixin({
			// Must be the service name: the mixin cleans the cache keys "catalog.**".
			collection: "catalog",
			cached: true,
			// A stock change cleans that product's answer and the lists, not every product's.
			cleanByEntity: true,
			fields: {
				name: { type: String, required: true },
				description: { type: String, default: "" },
				price: { type: Number, required: true, min: 0 },
				currency: { type: String, required: true },
				category: { type: String, required: true },
				stock: { type: Number, required: true, min: 0 },
				active: { type: Boolean, required: true },
				createdAt: { type: String, required: true },
				updatedAt: { type: String, required: true },
				// The stock changes being applied right now (src/catalog/stock.ts): empty between calls.
				stockMarks: { type: [String], default: [] },
				lowStockReported: { type: Boolean, default: false },
			},
			indexes: [
				{ fields: { category: 1, active: 1 } },
				{ fields: { active: 1, name: 1 } },
				{ fields: { active: 1, price: 1 } },
				// The low-stock sweep looks for the few products below the threshold.
				{ fields: { stock: 1 } },
			],
			outbox: true,
		}),
	],

	settings: {
		rest: "/products",
	},

	actions: {
		/** Active products, optionally searched (name or description, any case) and filtered by category. */
		list: {
			rest: "GET /",
			retryPolicy: { enabled: true },
			cache: { keys: ["search", "category", "page", "pageSize", "sort"] },
			params: { ...browseRules, ...pageParams },
			async handler(ctx: AppContext<BrowseRequest & PageRequest>): Promise<Page<ProductView>> {
				return mapPage(await this.findPage<Product>(browseQuery(ctx.params), sortFields(ctx.params.sort), ctx.params), productView);
			},
		},

		/** One active product; a removed one is as unknown as a missing one. */
		get: {
			rest: "GET /:id",
			retryPolicy: { enabled: true },
			cache: { keys: ["id"] },
			params: { id: productIdRule },
			async handler(ctx: AppContext<{ id: string }>): Promise<ProductView> {
				const product = await this.productOr404(ctx.params.id);
				if (!product.active) throw new NotFoundError("Product", ctx.params.id);
				return productView(product);
			},
		},

		/** The products of these ids that exist, removed ones included (see `active`), in the order asked. For orders. */
		getMany: {
			visibility: "public",
			retryPolicy: { enabled: true },
			params: { ids: idsRule },
			async handler(ctx: AppContext<{ ids: string[] }>): Promise<ProductView[]> {
				const ids = [...new Set(ctx.params.ids)].filter(id => this.isValidId(id));
				if (ids.length === 0) return [];
				const products = await this.findEntities<Product>({ query: { _id: { $in: ids } } });
				const byId = new Map(products.map(product => [String(product._id), productView(product)]));
				return ids.flatMap(id => byId.get(id) ?? []);
			},
		},

		create: {
			rest: "POST /",
			auth: "admin",
			params: {
				...productFieldRules,
				description: { ...productFieldRules.description, optional: true, default: "" },
				stock: { ...initialStockRule, optional: true, default: 0 },
				active: { ...productFieldRules.active, optional: true, default: true },
			},
			async handler(ctx: AppContext<NewProductFields>): Promise<ProductView> {
				const _id = this.newId();
				const product = { _id, ...newProduct(ctx.params, new Date(), config.catalog.lowStockThreshold) };
				const created = newEvent("product.created", productEventData(productView(product)));
				const saved = await this.insertEntity<Product>({ ...product, ...outboxOnInsert([created]) });
				this.relayOwed(saved);
				const view = productView(saved);
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/products/${view.id}`;
				return view;
			},
		},

		/** Changes any of the editable fields; stock changes through POST /:id/stock only. */
		update: {
			rest: "PATCH /:id",
			auth: "admin",
			params: {
				id: productIdRule,
				...optional(productFieldRules),
				stock: { type: "forbidden", messages: { forbidden: "Stock changes through POST /api/products/:id/stock" } },
			},
			async handler(ctx: AppContext<ProductChanges & { id: string }>): Promise<ProductView> {
				const changes = productChanges(ctx.params, new Date());
				const product = await this.productOr404(ctx.params.id);
				if (!changes) return productView(product);
				const updated = newEvent("product.updated", productEventData(productView({ ...product, ...changes.set }), changes.changed));
				const saved = await this.updateEntityIf<Product>({ _id: product._id }, withOutbox({ $set: changes.set }, [updated]));
				if (!saved) throw new NotFoundError("Product", ctx.params.id);
				this.relayOwed(saved);
				return productView(saved);
			},
		},

		/** Soft delete: the product leaves the shop but past orders still refer to it. Removing twice is harmless. */
		remove: {
			rest: "DELETE /:id",
			auth: "admin",
			params: { id: productIdRule },
			async handler(ctx: AppContext<{ id: string }>): Promise<ProductView> {
				const product = await this.productOr404(ctx.params.id);
				if (!product.active) return productView(product);
				const removed = newEvent("product.removed", productEventData(productView({ ...product, active: false })));
				const saved = await this.updateEntityIf<Product>(
					{ _id: product._id, active: true },
					withOutbox({ $set: { active: false, updatedAt: new Date().toISOString() } }, [removed]),
				);
				this.relayOwed(saved);
				return productView(saved ?? (await this.productOr404(ctx.params.id)));
			},
		},

		/** An admin's stock correction; 409 INSUFFICIENT_STOCK rather than going below zero. */
		adjustStock: {
			rest: "POST /:id/stock",
			auth: "admin",
			params: { id: productIdRule, delta: deltaRule },
			async handler(ctx: AppContext<{ id: string; delta: number }>): Promise<ProductView> {
				const { id, delta } = ctx.params;
				if (!(await this.applyStockUpdate(id, adjustUpdate(id, delta, new Date())))) {
					const product = await this.productOr404(id);
					throw new ConflictError("Not enough stock for this adjustment", "INSUFFICIENT_STOCK", { productId: id, delta, stock: product.stock });
				}
				const product = await this.productOr404(id);
				await this.checkLowStock(product);
				return productView(product);
			},
		},

		/**
		 * Takes stock for an order, once however often it is asked (safe to retry): 404 for a
		 * missing or removed product, 409 OUT_OF_STOCK when there is not enough.
		 */
		reserve: {
			visibility: "public",
			retryPolicy: { enabled: true },
			params: { productId: productIdRule, quantity: quantityRule, orderId: orderIdRule },
			async handler(ctx: AppContext<StockRequest>): Promise<StockResult> {
				const { productId, quantity } = ctx.params;
				const outcome = this.isValidId(productId) ? await reserveStock(this.stockStore(), ctx.params) : "unknown product";
				if (outcome === "unknown product") throw new NotFoundError("Product", productId);
				if (outcome === "out of stock") {
					countRefusedReservation(this.broker);
					throw new ConflictError("Not enough stock", "OUT_OF_STOCK", { productId, requested: quantity });
				}
				// The stock right after: a report, not a decision (the update above decided).
				const product = await this.productOr404(productId);
				if (outcome === "taken") await this.checkLowStock(product);
				return { productId, quantity, stock: product.stock };
			},
		},

		/** Gives back the stock an order took (cancelled or failed order); nothing if it took none. Safe to retry. */
		release: {
			visibility: "public",
			retryPolicy: { enabled: true },
			params: { productId: productIdRule, quantity: quantityRule, orderId: orderIdRule },
			async handler(ctx: AppContext<StockRequest>): Promise<StockResult & { released: boolean }> {
				const { productId, quantity } = ctx.params;
				const released = await releaseStock(this.stockStore(), ctx.params);
				const product = await this.productOr404(productId);
				if (released) await this.checkLowStock(product);
				return { productId, quantity, stock: product.stock, released };
			},
		},

		/** The order was delivered: its stock is sold for good and it no longer holds any. */
		settle: {
			visibility: "public",
			retryPolicy: { enabled: true },
			params: { productId: productIdRule, orderId: orderIdRule },
			async handler(ctx: AppContext<{ productId: string; orderId: string }>): Promise<{ settled: boolean }> {
				return { settled: await settleStock(this.stockStore(), ctx.params) };
			},
		},
	},

	methods: {
		async checkLowStock(product: Product) {
			const threshold = config.catalog.lowStockThreshold;
			const report = lowStockReport(product, threshold);
			if (!report) {
				if (!product.lowStockReported) return;
				const recovered = lowStockRecovered(product._id, threshold);
				await this.updateEntities(recovered.query, recovered.update);
				return;
			}
			if (product.lowStockReported) return;
			const low = newEvent("inventory.low", { productId: product._id, name: product.name, stock: product.stock });
			this.relayOwed(await this.updateEntityIf<Product>(report.query as { _id: string }, withOutbox(report.update, [low])));
		},

		async sweepLowStock() {
			const threshold = config.catalog.lowStockThreshold;
			const unreported = await this.findEntities<Product>({ query: { active: true, stock: { $lt: threshold }, lowStockReported: { $ne: true } }, limit: 100 });
			const recovered = await this.findEntities<Product>({ query: { stock: { $gte: threshold }, lowStockReported: true }, limit: 100 });
			for (const product of [...unreported, ...recovered]) await this.checkLowStock(product);
		},

		async productOr404(id) {
			const product = await this.findEntityById<Product>(id);
			if (!product) throw new NotFoundError("Product", id);
			return product;
		},

		/** One atomic conditional update of one product; true when it applied. */
		async applyStockUpdate(productId, { query, update }) {
			if (!this.isValidId(productId)) return false;
			return (await this.updateEntities(query, update)) > 0;
		},

		stockStore(): StockStore {
			const { holds } = this;
			return {
				holdById: id => holds.byId(id),
				insertHold: hold => holds.insertIfNew(hold),
				updateHold: async (query, update) => (await holds.updateOne(query, update)) !== null,
				removeHold: query => holds.removeOne(query),
				productById: id => this.findEntityById<Product>(id),
				updateProduct: async (query, update) => (await this.updateEntities(query, update)) > 0,
				updateStockMarks: (query, update) => this.updateUnseenFields(query as { _id: string }, update),
				lacks: (field, value) => this.lacks(field, value),
				now: () => new Date(),
				sleep: ms => new Promise(resolve => setTimeout(resolve, ms)),
				// A change that ran longer than any caller waits for it is taken as dead.
				leaseMs: config.broker.requestTimeout,
			};
		},

		/** Holds only of orders in play: a small collection, read in pages of one orders.statusesOf call each. */
		async reconcileHolds() {
			let changed = 0;
			for (let after = ""; ;) {
				const page = await this.holds.find({ _id: { $gt: after } }, { sort: { _id: 1 }, limit: 100 });
				if (page.length === 0) break;
				after = page[page.length - 1]._id;
				const orders = await this.broker.call<{ id: string; status: string }[], { ids: string[] }>("orders.statusesOf", {
					ids: [...new Set(page.map(hold => hold.orderId))],
				});
				const statusOf = new Map(orders.map(order => [order.id, order.status]));
				for (const hold of page) if (await reconcileHold(this.stockStore(), hold, statusOf.get(hold.orderId))) changed += 1;
			}
			if (changed > 0) this.logger.warn(`Reconciled ${changed} stock holds of orders given up or delivered, or left half-done`);
			return changed;
		},

		/** Called by the db mixin when the collection is empty. */
		async seedDatabase() {
			if (!config.catalog.seedDemo) return;
			const now = new Date();
			for (const fields of DEMO_PRODUCTS) await this.insertEntity(newProduct(fields, now, config.catalog.lowStockThreshold));
			this.logger.info(`Seeded the demo catalog: ${DEMO_PRODUCTS.length} products`);
		},
	},

	created() {
		this.holds = openCollection<Hold>({ name: "catalog_holds" });
	},

	started() {
		this.sweepTimer = setInterval(() => {
			this.sweepLowStock().catch(err => this.logger.warn("The low-stock sweeper will try again:", String(err)));
		}, config.sweeper.intervalMs);
		this.holdsTimer = setInterval(() => {
			this.reconcileHolds().catch(err => this.logger.warn("The reconciliation of stock holds will try again:", String(err)));
		}, config.catalog.holdsReconcileIntervalMs);
	},

	async stopped() {
		clearInterval(this.sweepTimer);
		clearInterval(this.holdsTimer);
		await this.holds.close();
	},
};

export default CatalogService;
