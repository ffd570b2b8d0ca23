/** Environment for the in-process tests, set before any project module reads it. */
process.env.JWT_SECRET ??= "test-secret-for-jest-only";
process.env.ADMIN_EMAIL ??= "admin@shop.test";
process.env.ADMIN_PASSWORD ??= "admin-password-1";
process.env.AUTH_RATE_LIMIT ??= "10000";
process.env.LOGLEVEL ??= "warn";
// The relay and the sweepers act within a fraction of a second, so tests see owed work finished.
process.env.OUTBOX_RELAY_INTERVAL_MS ??= "200";
process.env.OUTBOX_SCAN_INTERVAL_MS ??= "1000";
process.env.SWEEP_INTERVAL_MS ??= "300";
process.env.SWEEP_GRACE_MS ??= "500";
// A handler that keeps failing on an event gives up after five quick tries, not an hour.
process.env.EVENTS_RETRY_FIRST_DELAY_MS ??= "100";
process.env.EVENTS_GIVE_UP_AFTER_MS ??= "0";
