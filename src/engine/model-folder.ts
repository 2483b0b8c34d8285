import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ModelConfigError } from "../core/index.js";
import { checkConfined } from "./confine.js";
import { type FolderReader, type ModelFolder, parseModelFolder } from "./folder.js";

export { type FolderReader, type ModelFolder, ONNX_CANDIDATES } from "./folder.js";

/** A model folder on disk. */
export function directoryReader(dir: string): FolderReader {
  return {
    locate: (rel) => (rel === "" ? dir : join(dir, rel)),
    exists: async (rel) => existsSync(join(dir, rel)),
    read: async (rel) => new Uint8Array(await readFile(join(dir, rel))),
  };
}

/** Read a Hugging Face / optimum model folder: config, tokenizer, ONNX path and sentence-transformers modules. */
export async function readModelFolder(dir: string, onnxFile?: string): Promise<ModelFolder> {
  if (!existsSync(dir)) throw new ModelConfigError(`Model folder ${dir} does not exist`);
  checkConfined(dir);
  return parseModelFolder(directoryReader(dir), onnxFile);
}
