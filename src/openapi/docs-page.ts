/**
 * The API docs page: Swagger UI from the swagger-ui-dist package, served by the gateway
 * itself (no CDN), pointed at the gateway's own OpenAPI document.
 */
import path from "node:path";

/** swagger-ui-dist's folder of static files (its index module would load the whole bundle). */
const ASSET_DIR = path.dirname(require.resolve("swagger-ui-dist/package.json"));

/** The files the page loads, and their content types; nothing else of the folder is served. */
const ASSETS: Record<string, string> = {
	"swagger-ui.css": "text/css; charset=utf-8",
	"swagger-ui-bundle.js": "text/javascript; charset=utf-8",
	"swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
	"favicon-32x32.png": "image/png",
};

/** The page at `base` (e.g. "/api/docs"), its files under `base/`, showing the document at `documentUrl`. */
export function docsPage(base: string, documentUrl: string): string {
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
<script>
window.ui = SwaggerUIBundle({
	url: ${JSON.stringify(documentUrl)},
	dom_id: "#swagger-ui",
	deepLinking: true,
	presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
	layout: "StandaloneLayout",
});
</script>
</body>
</html>
`;
}

/** The file behind `name` and its content type, or null for anything but the page's own files. */
export function docsAsset(name: string): { file: string; contentType: string } | null {
	const contentType = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
	return contentType ? { file: path.join(ASSET_DIR, name), contentType } : null;
}
