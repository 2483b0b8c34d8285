import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type DenseLayer,
  isJsonObject,
  type JsonObject,
  type ModelConfig,
  ModelConfigError,
  parseDenseConfig,
  parseSafetensors,
  poolingFromSentenceTransformers,
  type SentenceTransformersPooling,
  setOwn,
} from "../core/index.js";
import { checkConfined } from "./confine.js";

/** Everything read from a model folder before the session starts. */
export interface ModelFolder {
  dir: string;
  config: ModelConfig;
  tokenizerJson: JsonObject;
  tokenizerConfig: JsonObject;
  onnxPath: string;
  stPooling: SentenceTransformersPooling | null;
  stMaxSeqLength: number | undefined;
  dense: DenseLayer[];
  /** sentence-transformers prompts by name, e.g. `{ query: "query: " }`. */
  prompts: Record<string, string>;
  defaultPromptName: string | null;
}

async function readJsonIfExists(path: string): Promise<unknown> {
  if (!existsSync(path)) return undefined;
  const text = await readFile(path, "utf8");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ModelConfigError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
}

async function readJson(path: string): Promise<JsonObject> {
  const value = await readJsonIfExists(path);
  if (value === undefined) throw new ModelConfigError(`Missing ${path}`);
  if (!isJsonObject(value)) throw new ModelConfigError(`${path} must hold a JSON object`);
  return value;
}

/** ONNX file candidates in the order optimum and transformers.js lay them out. */
export const ONNX_CANDIDATES = ["onnx/model.onnx", "model.onnx"] as const;

function findOnnx(dir: string, onnxFile: string | undefined): string {
  const candidates = onnxFile ? [onnxFile] : ONNX_CANDIDATES;
  for (const c of candidates) {
    const p = join(dir, c);
    if (existsSync(p)) return p;
  }
  throw new ModelConfigError(`No ONNX model in ${dir} (looked for ${candidates.join(", ")})`);
}

interface StModule {
  path: string;
  type: string;
}

async function readModules(dir: string): Promise<StModule[]> {
  const modules = await readJsonIfExists(join(dir, "modules.json"));
  if (modules === undefined) return [];
  if (!Array.isArray(modules)) throw new ModelConfigError(`${dir}/modules.json must be a list`);
  return modules.map((m: unknown) => {
    if (!isJsonObject(m)) throw new ModelConfigError(`${dir}/modules.json has a non-object entry`);
    return { path: String(m.path ?? ""), type: String(m.type ?? "") };
  });
}

async function readDense(dir: string, path: string): Promise<DenseLayer> {
  const where = join(dir, path);
  const cfg = parseDenseConfig(await readJsonIfExists(join(where, "config.json")), where);
  const file = join(where, "model.safetensors");
  if (!existsSync(file)) {
    throw new ModelConfigError(`${where}: Dense weights must be in model.safetensors`);
  }
  const tensors = parseSafetensors(new Uint8Array(await readFile(file)));
  const weight = tensors.get("linear.weight");
  if (!weight || weight.shape[0] !== cfg.outFeatures || weight.shape[1] !== cfg.inFeatures) {
    throw new ModelConfigError(
      `${file}: linear.weight must have shape [${cfg.outFeatures}, ${cfg.inFeatures}]`,
    );
  }
  const bias = cfg.bias ? (tensors.get("linear.bias")?.data ?? null) : null;
  if (cfg.bias && (!bias || bias.length !== cfg.outFeatures)) {
    throw new ModelConfigError(`${file}: linear.bias must have ${cfg.outFeatures} values`);
  }
  return { ...cfg, weight: weight.data, bias };
}

/** Read a Hugging Face / optimum model folder: config, tokenizer, ONNX path and sentence-transformers modules. */
export async function readModelFolder(dir: string, onnxFile?: string): Promise<ModelFolder> {
  if (!existsSync(dir)) throw new ModelConfigError(`Model folder ${dir} does not exist`);
  checkConfined(dir);
  const config = (await readJson(join(dir, "config.json"))) as ModelConfig;
  const tokenizerJson = await readJson(join(dir, "tokenizer.json"));
  const tokenizerConfig = existsSync(join(dir, "tokenizer_config.json"))
    ? await readJson(join(dir, "tokenizer_config.json"))
    : {};
  const modules = await readModules(dir);
  const hasNormalize = modules.some((m) => m.type.endsWith(".Normalize"));
  const poolingModule = modules.find((m) => m.type.endsWith(".Pooling"));
  let stPooling: SentenceTransformersPooling | null = null;
  if (poolingModule) {
    const json = await readJsonIfExists(join(dir, poolingModule.path, "config.json"));
    stPooling = poolingFromSentenceTransformers(json, hasNormalize);
  }
  const dense: DenseLayer[] = [];
  for (const m of modules.filter((m) => m.type.endsWith(".Dense"))) {
    dense.push(await readDense(dir, m.path));
  }
  const stConfig = await readJsonIfExists(join(dir, "config_sentence_transformers.json"));
  const prompts: Record<string, string> = {};
  let defaultPromptName: string | null = null;
  if (isJsonObject(stConfig)) {
    if (isJsonObject(stConfig.prompts)) {
      for (const [k, v] of Object.entries(stConfig.prompts))
        if (typeof v === "string") setOwn(prompts, k, v);
    }
    if (typeof stConfig.default_prompt_name === "string")
      defaultPromptName = stConfig.default_prompt_name;
  }
  const sbert = await readJsonIfExists(join(dir, "sentence_bert_config.json"));
  const maxSeq = isJsonObject(sbert) ? sbert.max_seq_length : undefined;
  return {
    dir,
    config,
    tokenizerJson,
    tokenizerConfig,
    onnxPath: findOnnx(dir, onnxFile),
    stPooling,
    stMaxSeqLength: typeof maxSeq === "number" ? maxSeq : undefined,
    dense,
    prompts,
    defaultPromptName,
  };
}
