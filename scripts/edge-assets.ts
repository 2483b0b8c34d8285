/**
 * wrangler's build step (wrangler.jsonc `build.command`): the API page's packaged files from
 * swagger-ui-dist into dist/edge-assets/docs/, which wrangler uploads as static assets. Cloudflare
 * serves them beside the Worker (no API key, cached, compressed), so the Worker's own bundle does
 * not grow; the Worker answers `/docs` itself with the same page as the server and the functions.
 */
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DOCS_FILES, type DocsFile } from "../src/api/docs.js";
import { swaggerUiDir } from "../src/api/docs-package.js";

const ROOT = join(import.meta.dirname, "..");
/** wrangler.jsonc's `assets.directory`. */
export const EDGE_ASSETS = join(ROOT, "dist", "edge-assets");

export function writeEdgeAssets(out = EDGE_ASSETS): string[] {
  const dir = swaggerUiDir();
  if (!dir) throw new Error("swagger-ui-dist is not installed: run npm ci");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, "docs"), { recursive: true });
  return (Object.keys(DOCS_FILES) as DocsFile[]).map((file) => {
    copyFileSync(join(dir, file), join(out, "docs", file));
    return `docs/${file}`;
  });
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  console.log(`static assets in ${EDGE_ASSETS}: ${writeEdgeAssets().join(", ")}`);
}
