/** Runs the in-process integration tests on the MongoDB wire server, each file in a database of its own. */
const base = process.env.SHOP_TEST_MONGO_URI;
if (!base) throw new Error("SHOP_TEST_MONGO_URI is not set: run these tests with npm run test:cluster");
const url = new URL(base);
url.pathname = `/shop_it_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
process.env.MONGO_URI = url.toString();
// FerretDB scans a collection for the relay's and the sweepers' queries: less often here.
process.env.OUTBOX_SCAN_INTERVAL_MS = "5000";
process.env.SWEEP_INTERVAL_MS = "2000";
