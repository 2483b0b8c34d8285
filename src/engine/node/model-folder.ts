import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ModelConfigError } from "../../core/index.js";
import {
  type FolderHead,
  type FolderReader,
  type ModelFolder,
  parseModelFolder,
  readFolderHead,
} from "../folder.js";
import { checkConfined } from "./confine.js";

export {
  type FolderHead,
  type FolderReader,
  type ModelFolder,
  ONNX_CANDIDATES,
} from "../folder.js";

/** A model folder on disk. */
export function directoryReader(dir: string): FolderReader {
  return {
    locate: (rel) => (rel === "" ? dir : join(dir, rel)),
    exists: async (rel) => existsSync(join(dir, rel)),
    read: async (rel) => new Uint8Array(await readFile(join(dir, rel))),
  };
}

function checkedReader(dir: string): FolderReader {
  if (!existsSync(dir)) throw new ModelConfigError(`Model folder ${dir} does not exist`);
  checkConfined(dir);
  return directoryReader(dir);
}

/** Read a Hugging Face / optimum model folder: config, tokenizer, ONNX path and sentence-transformers modules. */
export async function readModelFolder(
  dir: string,
  onnxFile?: string,
  head?: FolderHead,
): Promise<ModelFolder> {
  // A head comes from readModelFolderHead, which checked the folder already.
  return parseModelFolder(head ? directoryReader(dir) : checkedReader(dir), onnxFile, head);
}

/** Read only the config and locate the ONNX file, so that the session can start first. */
export async function readModelFolderHead(
  dir: string,
  onnxFile?: string,
): Promise<FolderHead & { onnxPath: string }> {
  const reader = checkedReader(dir);
  const head = await readFolderHead(reader, onnxFile);
  return { ...head, onnxPath: reader.locate(head.onnxFile) };
}
