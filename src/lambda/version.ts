import { createRequire } from "node:module";

/** Set by `npm run build:functions` (esbuild `define`) from package.json's version. */
declare const EDGEPOOL_VERSION: string | undefined;

/** The version `GET /version` answers: package.json's (built into the bundle, or read unbundled). */
export function functionVersion(): string {
  if (typeof EDGEPOOL_VERSION === "string") return EDGEPOOL_VERSION;
  return (createRequire(import.meta.url)("../../package.json") as { version: string }).version;
}
