import { randomBytes } from "node:crypto";
import {
  access,
  mkdir,
  open,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  writeFile,
} from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { graphFilesKey } from "./graph-files-key.js";

const GRAPH = "model.onnx";
const DATA = "model.onnx_data";
/** Written instead of a graph when the source is kept (weights already external, or none). */
const KEEP_SOURCE = "keep-source";
/** The source graph's real path, so that a newer copy of the same file replaces older ones. */
const SOURCE = "source";
/** Smaller weights stay in the graph. */
const MIN_EXTERNAL_BYTES = 1024;
/** Each weight starts on a page of the data file, so that it can be mapped where it lies. */
const ALIGN = 4096;

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
 * Move a graph's weights into one data file beside a copy of the graph that references them.
 * Returns false (nothing written) when the graph keeps its weights elsewhere already, has none
 * worth moving, or is not an ONNX model (the session reports that one).
 */
async function writeMapped(onnxPath: string, out: string): Promise<boolean> {
  const { onnx } = await import("../quantize/onnx-proto.js");
  let model: InstanceType<typeof onnx.ModelProto>;
  try {
    model = onnx.ModelProto.decode(await readFile(onnxPath));
  } catch {
    return false;
  }
  const initializers = model.graph?.initializer ?? [];
  if (initializers.some((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL))
    return false;
  const moved = initializers.filter((t) => (t.rawData?.length ?? 0) >= MIN_EXTERNAL_BYTES);
  if (moved.length === 0) return false;
  const data = await open(join(out, DATA), "w");
  try {
    let offset = 0;
    for (const t of moved) {
      const pad = (ALIGN - (offset % ALIGN)) % ALIGN;
      if (pad > 0) await data.write(new Uint8Array(pad));
      offset += pad;
      const raw = t.rawData!;
      await data.write(raw);
      t.externalData = [
        { key: "location", value: DATA },
        { key: "offset", value: String(offset) },
        { key: "length", value: String(raw.length) },
      ];
      t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      // Unset (not empty): the field is then left out of the encoded graph.
      delete (t as { rawData?: Uint8Array }).rawData;
      offset += raw.length;
    }
  } finally {
    await data.close();
  }
  await writeFile(join(out, GRAPH), onnx.ModelProto.encode(model).finish());
  return true;
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
  try {
    dir = join(cacheRoot, "mapped-weights", await graphFilesKey(onnxPath));
  } catch {
    return { path: onnxPath, wrote: false };
  }
  const found = await cached(dir, onnxPath);
  if (found) return { path: found, wrote: false };
  const tmp = `${dir}.${randomBytes(6).toString("hex")}.tmp`;
  const source = join(await realpath(dirname(onnxPath)), basename(onnxPath));
  try {
    await mkdir(tmp, { recursive: true });
    if (!(await writeMapped(onnxPath, tmp))) await writeFile(join(tmp, KEEP_SOURCE), "");
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
