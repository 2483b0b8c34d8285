import { execFile } from "node:child_process";
import { cpSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

/**
 * Node's compile cache shipped in each function's zip: V8's code for the function's modules,
 * made at package time, so that a cold start deserializes instead of parsing and compiling.
 * Node reads a cache only from the folder named for its exact version, its V8 flags and the
 * user it runs as (`v24.11.1-x64-<flags hash>-<uid>`); any other Node compiles as usual (nothing
 * fails, the start is only slower). Build with the Node version of the Lambda runtime.
 */

/** The V8 flags Lambda's Node runtime starts node with (its bootstrap: `--expose-gc`; the heap sizes do not change the cache's folder). */
export const LAMBDA_NODE_FLAGS = ["--expose-gc"];

/** The user Lambda runs a function as (`sbx_user1051`): the cache's folder name ends with it. */
export const LAMBDA_UID = 993;

/** The folder a cache lives in, under the function's folder. */
export const COMPILE_CACHE_DIR = "compile-cache";

/** The JavaScript entry each function's handler names: enables the cache, then imports the function. */
export function loaderSource(exports: readonly string[]): string {
  return `// The function's entry: Node's compile cache (made when the function was packaged, read only by
// the same Node version, V8 flags and user), then the function itself, compiled with it. Only in
// a function's environment (AWS_LAMBDA_FUNCTION_NAME): elsewhere (tests, a library import) Node
// would write the entries it lacks into this folder at exit.
import { enableCompileCache } from "node:module";
import { fileURLToPath } from "node:url";
if (process.env.AWS_LAMBDA_FUNCTION_NAME) {
  try {
    enableCompileCache?.({
      directory: fileURLToPath(new URL("./${COMPILE_CACHE_DIR}", import.meta.url)),
      portable: true,
    });
  } catch {
    // No cache: the modules are compiled as usual.
  }
}
export const { ${exports.join(", ")} } = await import("./function.js");
`;
}

const run = promisify(execFile);

/**
 * Write the compile cache of a built function into `<dir>/compile-cache`, for this Node with
 * Lambda's V8 flags, as this user and as Lambda's user. Returns the folders written.
 */
export async function writeCompileCache(dir: string, uid = LAMBDA_UID): Promise<string[]> {
  const warm = join(import.meta.dirname, "warm-compile-cache.mjs");
  // A clean environment: nothing configured, so the function's init fails fast and connects nowhere.
  await run(process.execPath, [...LAMBDA_NODE_FLAGS, warm, dir], {
    env: { PATH: process.env.PATH, EDGEPOOL_LOG_LEVEL: "silent" },
  });
  const root = join(dir, COMPILE_CACHE_DIR);
  const tags = readdirSync(root);
  const own = process.getuid?.();
  for (const tag of tags) {
    const lambda = tag.replace(/-\d+$/, `-${uid}`);
    if (own !== undefined && own !== uid && lambda !== tag) {
      cpSync(join(root, tag), join(root, lambda), { recursive: true });
    }
  }
  return readdirSync(root);
}
