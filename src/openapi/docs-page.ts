/**
 * The API docs page: Swagger UI from the swagger-ui-dist package, served by the gateway
 * itself (no CDN), pointed at the gateway's own OpenAPI document. The page runs only its
 * own files (no inline script), under a Content-Security-Policy like the web console's.
 */
import path from "node:path";

/** swagger-ui-dist's folder of static files (its index module would load the whole bundle). */
const ASSET_DIR = path.dirname(require.resolve("swagger-ui-dist/package.json"));

/** The package's files the page loads, and their content types; nothing else of the folder is served. */
const PACKAGE_FILES: Record<string, string> = {
	"swagger-ui.css": "text/css; charset=utf-8",
	"swagger-ui-bundle.js": "text/javascript; charset=utf-8",
	"swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
	"favicon-32x32.png": "image/png",
};

/**
 * Scripts, and requests, from this origin only. Swagger UI sets some styles inline, so
 * styles may be inline (a style cannot run code).
 */
export const DOCS_CSP =
	"default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** The page at `base` (e.g. "/api/docs"), its files under `base/`. */
export function docsPage(base: string): string {
	return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Shop API</title>
<link rel="stylesheet" href="${base}/swagger-ui.css">
<link rel="icon" type="image/png" href="${base}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${base}/swagger-ui-bundle.js"></script>
<script src="${base}/swagger-ui-standalone-preset.js"></script>
<script src="${base}/init.js"></script>
</body>
</html>
`;
}

/** The script that starts Swagger UI on the document at `documentUrl`. */
function initScript(documentUrl: string): string {
	return `window.ui = SwaggerUIBundle({
	url: ${JSON.stringify(documentUrl)},
	dom_id: "#swagger-ui",
	deepLinking: true,
	presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
	layout: "StandaloneLayout",
});
`;
}

export type DocsAsset = { contentType: string } & ({ file: string } | { text: string });

/** The page's file `name`, showing the document at `documentUrl`; null for anything else. */
export function docsAsset(name: string, documentUrl: string): DocsAsset | null {
	if (name === "init.js") return { contentType: "text/javascript; charset=utf-8", text: initScript(documentUrl) };
	const contentType = Object.hasOwn(PACKAGE_FILES, name) ? PACKAGE_FILES[name] : undefined;
	return contentType ? { file: path.join(ASSET_DIR, name), contentType } : null;
}
