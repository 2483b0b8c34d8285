import type { Env, Hono } from "hono";
import { NotFoundError } from "../core/index.js";
import { errorBody } from "./errors.js";

/**
 * The API page: Swagger UI (the `swagger-ui-dist` package, as `vllm serve` and TEI serve it at
 * `/docs`) over `/openapi.json`, its files served by this server under `/docs/` — never from a
 * CDN, so the page works offline and under a strict Content-Security-Policy.
 */

/** The packaged files the page loads, by their name in swagger-ui-dist and under `/docs/`. */
export const DOCS_FILES = {
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui.css": "text/css; charset=utf-8",
  // The bundle's own comment points here for its dependencies' licences.
  "swagger-ui-bundle.js.LICENSE.txt": "text/plain; charset=utf-8",
} as const;

export type DocsFile = keyof typeof DOCS_FILES;

export interface DocsAsset {
  body: Uint8Array;
  /** The same bytes gzipped, sent to clients that accept it. */
  gzip: Uint8Array | null;
  /** Names the package version: the file changes only with it. */
  etag: string;
}

/** Reads a packaged file (Node: swagger-ui-dist on disk); throws NotFoundError when absent. */
export type DocsAssets = (file: DocsFile) => Promise<DocsAsset>;

/** Scripts, styles and requests from this origin only; no inline code, no framing. */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  // Swagger UI's icons are data: URIs in its stylesheet.
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

// Paths are relative to the page (`/docs`): behind a prefix (`/stage/docs`) the files, the spec
// and the requests sent from the page stay under it.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edgepool API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<noscript>This page needs JavaScript. The specification is at <a href="openapi.json">openapi.json</a>.</noscript>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/init.js"></script>
</body>
</html>
`;

// A file, not an inline script, so that the policy needs no 'unsafe-inline'.
const INIT_JS = `window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  displayRequestDuration: true,
  // Swagger UI would otherwise send the specification to validator.swagger.io.
  validatorUrl: null,
});
`;

/** `/docs` and everything under it: public (no API key), like `/openapi.json`. */
export function isDocsPath(path: string): boolean {
  return path === "/docs" || path.startsWith("/docs/");
}

const cacheControl = "public, max-age=86400";

/**
 * Mount `GET /docs` (the page, with its CSP) and `/docs/init.js`; with `assets`, also the
 * packaged files. Without, the platform serves them (the edge Worker: wrangler's static assets).
 */
export function registerDocs<E extends Env>(app: Hono<E>, assets?: DocsAssets): void {
  app.get("/docs", async (c) => {
    // A page whose files are missing would be blank: say so instead.
    if (assets) await assets("swagger-ui.css");
    c.header("content-security-policy", DOCS_CSP);
    c.header("x-content-type-options", "nosniff");
    c.header("cache-control", "no-cache");
    return c.html(PAGE);
  });
  app.get("/docs/init.js", (c) => {
    c.header("content-type", "text/javascript; charset=utf-8");
    c.header("cache-control", "no-cache");
    return c.body(INIT_JS);
  });
  if (!assets) {
    // Reached only when the platform has no such file.
    app.get("/docs/*", (c) =>
      c.json(errorBody(`Route GET ${c.req.path} not found`, "NotFoundError", 404), 404),
    );
    return;
  }
  for (const [file, type] of Object.entries(DOCS_FILES) as Array<[DocsFile, string]>) {
    app.get(`/docs/${file}`, async (c) => {
      const asset = await assets(file);
      const gzip = asset.gzip && /\bgzip\b/.test(c.req.header("accept-encoding") ?? "");
      const etag = `W/"${asset.etag}${gzip ? "-gz" : ""}"`;
      c.header("etag", etag);
      c.header("cache-control", cacheControl);
      c.header("vary", "accept-encoding");
      if (c.req.header("if-none-match") === etag) return c.body(null, 304);
      c.header("content-type", type);
      c.header("x-content-type-options", "nosniff");
      if (gzip) c.header("content-encoding", "gzip");
      return c.body((gzip ? asset.gzip! : asset.body) as Uint8Array<ArrayBuffer>);
    });
  }
}

/** The error for a server installed without swagger-ui-dist (e.g. a function's zip). */
export function docsMissing(detail: string): NotFoundError {
  return new NotFoundError(
    `The API page's files (the swagger-ui-dist package) are not installed with this server: ${detail}. The specification is at /openapi.json.`,
  );
}
