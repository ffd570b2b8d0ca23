/** Clients that poll (the web console's live views) revalidate with ETags: no body while nothing changed. */
import { startShop, type ShopCluster } from "../helpers/cluster";
import { adminToken, client, type Client } from "../helpers/http";

let shop: ShopCluster;
let api: Client;
let token: string;

beforeAll(async () => {
	shop = await startShop();
	api = client(shop.url);
	token = await adminToken(api);
});
afterAll(() => shop.stop());

// Node's fetch adds "Cache-Control: no-cache" (which asks for a full answer) to a conditional
// request unless the request says otherwise; a browser sends max-age=0.
const revalidate = (etag: string) => ({ "if-none-match": etag, "cache-control": "max-age=0" });

it("answers a poll with 304 and no body while the answer is the same, and 200 with a new ETag once it changed", async () => {
	const first = await api.get("/api/products", { token });
	const etag = first.headers.get("etag")!;
	expect(etag).toMatch(/^W\/"/);

	const unchanged = await api.get("/api/products", { token, headers: revalidate(etag) });
	expect(unchanged.status).toBe(304);
	expect(unchanged.body).toBeUndefined();

	const created = await api.post("/api/products", { name: "Lamp", description: "Brass", price: 4500, currency: "USD", category: "home", stock: 3 }, { token });
	expect(created.status).toBe(201);
	const changed = await api.get("/api/products", { token, headers: revalidate(etag) });
	expect(changed.status).toBe(200);
	expect(changed.body.rows.map((p: { name: string }) => p.name)).toContain("Lamp");
	expect(changed.headers.get("etag")).not.toBe(etag);
});
