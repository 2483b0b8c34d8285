import { randomBytes } from "node:crypto";
import { access, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { graphFilesKey } from "./graph-files-key.js";

const GRAPH = "model.onnx";
const DATA = "model.onnx_data";
/** Written instead of a graph when the source is kept (weights already external, or none). */
const KEEP_SOURCE = "keep-source";
/** The source graph's real path, so that a newer copy of the same file replaces older ones. */
const SOURCE = "source";

export interface MappedWeights {
  /** The graph to create the session from: the cached copy, or the source when it is kept. */
  path: string;
  /** Whether this call wrote the cached copy (the first load of this file). */
  wrote: boolean;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

async function cached(dir: string, onnxPath: string): Promise<string | undefined> {
  if (await exists(join(dir, GRAPH))) return join(dir, GRAPH);
  if (await exists(join(dir, KEEP_SOURCE))) return onnxPath;
  return undefined;
}

/**
 * ONNX Runtime copies the weights stored inside a graph file into memory it allocates, but maps
 * the weights of an external data file: the session is created without reading and copying
 * them, and the pages are shared with the file cache. The first load of a graph with inline
 * weights writes a copy with its weights in a page-aligned data file into the model cache
 * (`mapped-weights/<key>/`, keyed like the graph checks: a changed file is converted again);
 * later loads create the session from that copy. A graph whose weights are external already is
 * used as it is. When the copy cannot be written (read-only or full cache) the source is loaded
 * and `onWarning` says why.
 */
export async function mappedWeightsGraph(
  onnxPath: string,
  cacheRoot: string,
  onWarning: (message: string) => void,
): Promise<MappedWeights> {
  let dir: string;
  let source: string;
  try {
    const { key, real } = await graphFilesKey(onnxPath);
    dir = join(cacheRoot, "mapped-weights", key);
    source = real;
  } catch {
    return { path: onnxPath, wrote: false };
  }
  const found = await cached(dir, onnxPath);
  if (found) return { path: found, wrote: false };
  const tmp = `${dir}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await mkdir(tmp, { recursive: true });
    const { writeExternalData } = await import("../../onnx/external-data.js");
    if (!(await writeExternalData(onnxPath, join(tmp, GRAPH), DATA)))
      await writeFile(join(tmp, KEEP_SOURCE), "");
    await writeFile(join(tmp, SOURCE), source);
    // Another process may have finished the same copy first: then its copy is used.
    await rename(tmp, dir).catch(async (err) => {
      if (!(await cached(dir, onnxPath))) throw err;
    });
  } catch (err) {
    onWarning(
      `Could not write the mapped-weights copy of ${onnxPath} to ${dir} (${(err as Error).message}); the session loads the graph file as it is`,
    );
    return { path: onnxPath, wrote: false };
  } finally {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  }
  await removeOlderCopies(dirname(dir), basename(dir), source);
  const path = (await cached(dir, onnxPath)) ?? onnxPath;
  return { path, wrote: path !== onnxPath };
}

/**
 * Remove the copies written for earlier versions of the same source file (a session that still
 * maps one keeps its pages: the file goes when the mapping does).
 */
async function removeOlderCopies(root: string, keep: string, source: string): Promise<void> {
  const names = await readdir(root).catch(() => [] as string[]);
  for (const name of names) {
    if (name === keep || name.endsWith(".tmp")) continue;
    const of = await readFile(join(root, name, SOURCE), "utf8").catch(() => null);
    if (of === source) await rm(join(root, name), { recursive: true, force: true }).catch(() => {});
  }
}
