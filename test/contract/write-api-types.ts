/** `npm run openapi:types`: starts the shop in this process and writes the types of its API. */
import "../setup-env";
import { writeFile } from "node:fs/promises";
import { startShop } from "../helpers/cluster";
import { API_TYPES_FILE, apiTypesSource } from "./api-types";

async function main(): Promise<void> {
	const shop = await startShop();
	try {
		const document = (await (await fetch(`${shop.url}/api/openapi.json`)).json()) as object;
		await writeFile(API_TYPES_FILE, await apiTypesSource(document));
		process.stdout.write(`wrote ${API_TYPES_FILE}\n`);
	} finally {
		await shop.stop();
	}
}

main().catch(err => {
	process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
	process.exit(1);
});
