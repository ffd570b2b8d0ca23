/** The e2e tests' own settings, on top of test/setup-env.ts: an event that keeps failing is dead-lettered within a second. */
process.env.EVENTS_MAX_DELIVER ??= "2";
process.env.EVENTS_GIVE_UP_AFTER_MS ??= "0";
process.env.EVENTS_RETRY_FIRST_DELAY_MS ??= "200";
