import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { type DocsAsset, type DocsAssets, type DocsFile, docsMissing } from "./docs.js";

/** gzip, loaded with the first file (zlib is not needed at start-up). */
async function gzipped(body: Buffer): Promise<Buffer> {
  const { gzip } = await import("node:zlib");
  return new Promise((resolve, reject) =>
    gzip(body, (err, out) => (err ? reject(err) : resolve(out))),
  );
}

/** swagger-ui-dist's folder as Node resolves it from `from` (this module), or null when absent. */
export function swaggerUiDir(from: string = import.meta.url): string | null {
  try {
    return dirname(createRequire(from).resolve("swagger-ui-dist/package.json"));
  } catch {
    return null;
  }
}

/**
 * The API page's files from the installed swagger-ui-dist (Node: the server and the functions),
 * read and gzipped on first request and then kept: nothing is read at start-up, so a function's
 * cold start does not pay for a page few of its requests ask for.
 */
export function packageDocsAssets(dir: string | null = swaggerUiDir()): DocsAssets {
  const files = new Map<DocsFile, Promise<DocsAsset>>();
  const load = async (file: DocsFile): Promise<DocsAsset> => {
    if (!dir) throw docsMissing("Node cannot resolve swagger-ui-dist from here");
    let body: Buffer;
    let version: string;
    try {
      body = await readFile(join(dir, file));
      version = (
        JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as { version: string }
      ).version;
    } catch (err) {
      throw docsMissing(`${file} is not readable in ${dir} (${(err as Error).message})`);
    }
    return { body, gzip: await gzipped(body), etag: `swagger-ui-dist-${version}` };
  };
  return (file) => {
    let pending = files.get(file);
    if (!pending) {
      pending = load(file);
      files.set(file, pending);
      // A failed read is tried again by the next request (the file may appear, e.g. after an install).
      pending.catch(() => files.delete(file));
    }
    return pending;
  };
}
