import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { GraphCheckMemo, GraphLimits } from "../graph-limits.js";
import { graphFilesKey } from "./graph-files-key.js";

/**
 * The graph checks that passed, kept in the model cache (`graph-checks/<key>.json`) under a key
 * made of the identity of the ONNX file and of every file beside it (external data included): a
 * replaced, edited or touched file gets a new key and is probed again. A memo that cannot be read
 * or written counts as empty: the probes run.
 */
export async function fileGraphCheckMemo(
  onnxPath: string,
  cacheRoot: string,
): Promise<GraphCheckMemo | undefined> {
  let file: string;
  try {
    file = join(cacheRoot, "graph-checks", `${(await graphFilesKey(onnxPath)).key}.json`);
  } catch {
    return undefined;
  }
  const read = async (): Promise<GraphLimits[]> => {
    try {
      const list: unknown = JSON.parse(await readFile(file, "utf8"));
      return Array.isArray(list) ? (list as GraphLimits[]) : [];
    } catch {
      return [];
    }
  };
  return {
    async passed(limits) {
      return (await read()).some(
        (p) => p.maxModelLen === limits.maxModelLen && p.vocabSize === limits.vocabSize,
      );
    },
    async record(limits) {
      try {
        await mkdir(dirname(file), { recursive: true });
        const tmp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
        await writeFile(tmp, JSON.stringify([...(await read()), limits]));
        await rename(tmp, file);
      } catch {
        // A read-only cache: the probes run at the next start too.
      }
    },
  };
}
