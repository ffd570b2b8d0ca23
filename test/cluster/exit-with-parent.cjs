// Loaded into every process the cluster harness starts (NODE_OPTIONS=--require):
// the process exits when the test runner that started it is gone, so that a killed
// test run leaves no orphan services behind.
"use strict";
const parent = process.ppid;
setInterval(() => {
	if (process.ppid !== parent) process.exit(1);
}, 1000).unref();
