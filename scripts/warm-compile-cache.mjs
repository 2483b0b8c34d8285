// Run by `npm run build:functions` (scripts/compile-cache.ts), one process per function, with the
// V8 flags of Lambda's Node runtime: enables Node's compile cache in the function's folder and
// imports each of its modules, so that V8's code for all of them is written there. Plain
// JavaScript run by node: nothing but the function's own modules is compiled into the cache.
//   node --expose-gc scripts/warm-compile-cache.mjs dist/functions/<name>
import { readdirSync } from "node:fs";
import { constants, enableCompileCache, flushCompileCache } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const dir = resolve(process.argv[2]);
const { status, message } = enableCompileCache({
  directory: join(dir, "compile-cache"),
  portable: true,
});
if (status !== constants.compileCacheStatus.ENABLED) {
  console.error(`compile cache for ${dir}: ${message ?? `status ${status}`}`);
  process.exit(1);
}
// The function first (its init phase fails fast without a model or store: nothing is configured),
// then every chunk it may load on demand (the session, the SDKs, the store).
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".js") && f !== "index.js")
  .sort((a, b) => Number(b === "function.js") - Number(a === "function.js") || a.localeCompare(b));
for (const f of files) {
  try {
    await import(pathToFileURL(join(dir, f)).href);
  } catch {
    // Evaluating a module may fail here (no configuration); it was compiled, which is what counts.
  }
}
flushCompileCache();
process.exit(0);
