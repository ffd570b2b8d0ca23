/** Stops the servers that global-setup started (servers it found running stay). */
export default async function globalTeardown(): Promise<void> {
	await globalThis.shopTestServers?.stop();
}
