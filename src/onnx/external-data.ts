import { copyFile, link, mkdir, mkdtemp, open, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { onnx } from "./onnx-proto.js";

/** Smaller weights stay in the graph. */
const MIN_EXTERNAL_BYTES = 1024;
/** Each weight starts on a page of the data file, so that it can be mapped where it lies. */
const ALIGN = 4096;

/**
 * Write `outGraph`, a copy of the graph at `onnxPath` whose weights are moved into one data file
 * beside it (`dataName`), each at a page-aligned offset: ONNX Runtime maps such a file instead of
 * reading and copying the weights. Returns false (nothing written) when the graph keeps its weights
 * outside already, has none worth moving, or is not an ONNX model (the session reports that one).
 */
export async function writeExternalData(
  onnxPath: string,
  outGraph: string,
  dataName: string,
): Promise<boolean> {
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
  const data = await open(join(dirname(outGraph), dataName), "w");
  try {
    let offset = 0;
    for (const t of moved) {
      const pad = (ALIGN - (offset % ALIGN)) % ALIGN;
      if (pad > 0) await data.write(new Uint8Array(pad));
      offset += pad;
      const raw = t.rawData!;
      await data.write(raw);
      t.externalData = [
        { key: "location", value: dataName },
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
  await writeFile(outGraph, onnx.ModelProto.encode(model).finish());
  return true;
}

/**
 * A staging copy of a model folder's `files` (links where possible) in which each ONNX graph with
 * inline weights is rewritten with its weights in `<graph>_data` (`edgepool pin --mapped-weights`).
 * Returns the folder and its file list; the caller removes the folder.
 */
export async function stageExternalData(
  dir: string,
  files: readonly string[],
): Promise<{ dir: string; files: string[] }> {
  const stage = await mkdtemp(join(tmpdir(), "edgepool-pin-"));
  const out: string[] = [];
  for (const f of files) {
    const src = join(dir, f);
    const dst = join(stage, f);
    await mkdir(dirname(dst), { recursive: true });
    if (f.endsWith(".onnx") && (await writeExternalData(src, dst, `${basename(f)}_data`))) {
      out.push(f, `${f}_data`);
    } else if (!out.includes(f)) {
      await link(src, dst).catch(() => copyFile(src, dst));
      out.push(f);
    }
  }
  return { dir: stage, files: out };
}
