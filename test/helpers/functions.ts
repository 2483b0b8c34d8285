import { existsSync } from "node:fs";
import { join } from "node:path";
import { OUT_DIR } from "../../scripts/build-functions.js";

/** The function tests run the shipped bundles: `npm test` builds them (`npm run build:functions`). */
export function requireBundles(names: readonly string[]): void {
  const missing = names.filter((n) => !existsSync(join(OUT_DIR, n, "index.js")));
  if (missing.length > 0) {
    throw new Error(`No bundle for ${missing.join(", ")}: run \`npm run build:functions\` first`);
  }
}
