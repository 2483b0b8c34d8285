import {
  type ColbertSettings,
  colbertSettings,
  type DenseLayer,
  isJsonObject,
  type JsonObject,
  type ModelConfig,
  ModelConfigError,
  parseDenseConfig,
  parseRouterConfig,
  parseSafetensors,
  parseSpladePooling,
  poolingFromSentenceTransformers,
  type SentenceTransformersPooling,
  type SpladePoolingConfig,
  STANFORD_COLBERT_ARCHITECTURE,
  setOwn,
} from "../core/index.js";

/** Reads files of a model folder by relative path: a directory on disk, or objects in a bucket. */
export interface FolderReader {
  /** Where a relative path lives, for messages and for loading the ONNX file (`dir/rel`). */
  locate(rel: string): string;
  exists(rel: string): Promise<boolean>;
  read(rel: string): Promise<Uint8Array>;
}

/** Everything read from a model folder before the session starts. */
export interface ModelFolder {
  dir: string;
  /** Where the folder's other files (extra heads) are read from. */
  reader: FolderReader;
  config: ModelConfig;
  tokenizerJson: JsonObject;
  tokenizerConfig: JsonObject;
  /** `locate()` of the ONNX file. */
  onnxPath: string;
  /** The ONNX file relative to the folder. */
  onnxFile: string;
  stPooling: SentenceTransformersPooling | null;
  stMaxSeqLength: number | undefined;
  dense: DenseLayer[];
  /** sentence-transformers prompts by name, e.g. `{ query: "query: " }`. */
  prompts: Record<string, string>;
  defaultPromptName: string | null;
  /** A sentence-transformers SparseEncoder's SPLADE pooling and query side, when it is one. */
  splade: SpladeFolder | null;
  /** `idf.json` (token → weight), when the folder has one (OpenSearch's inference-free models). */
  idf: unknown;
  /** A ColBERT checkpoint's settings (PyLate or Stanford), when it is one. */
  colbert: ColbertSettings | null;
}

/** What a SparseEncoder's modules say. */
export interface SpladeFolder {
  pooling: SpladePoolingConfig;
  /** Query-side static weights by token id (a Router's `SparseStaticEmbedding`), or null. */
  queryWeights: Float32Array | null;
  /** Whether the Router sends queries to static weights (inference-free SPLADE). */
  inferenceFreeQueries: boolean;
  /** The route a prompt takes when the request names none (the Router's default). */
  defaultRoute: "query" | "document";
}

/** ONNX file candidates in the order optimum and transformers.js lay them out. */
export const ONNX_CANDIDATES = ["onnx/model.onnx", "model.onnx"] as const;

const utf8 = new TextDecoder();
const join = (a: string, b: string) => (a === "" ? b : `${a}/${b}`);

async function readJsonIfExists(reader: FolderReader, rel: string): Promise<unknown> {
  if (!(await reader.exists(rel))) return undefined;
  const text = utf8.decode(await reader.read(rel));
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ModelConfigError(
      `${reader.locate(rel)} is not valid JSON: ${(err as Error).message}`,
    );
  }
}

async function readJson(reader: FolderReader, rel: string): Promise<JsonObject> {
  const value = await readJsonIfExists(reader, rel);
  if (value === undefined) throw new ModelConfigError(`Missing ${reader.locate(rel)}`);
  if (!isJsonObject(value)) {
    throw new ModelConfigError(`${reader.locate(rel)} must hold a JSON object`);
  }
  return value;
}

async function findOnnx(reader: FolderReader, onnxFile: string | undefined): Promise<string> {
  const candidates = onnxFile ? [onnxFile] : ONNX_CANDIDATES;
  for (const c of candidates) if (await reader.exists(c)) return c;
  throw new ModelConfigError(
    `No ONNX model in ${reader.locate("")} (looked for ${candidates.join(", ")})`,
  );
}

interface StModule {
  path: string;
  type: string;
}

async function readModules(reader: FolderReader): Promise<StModule[]> {
  const modules = await readJsonIfExists(reader, "modules.json");
  if (modules === undefined) return [];
  if (!Array.isArray(modules)) {
    throw new ModelConfigError(`${reader.locate("modules.json")} must be a list`);
  }
  return modules.map((m: unknown) => {
    if (!isJsonObject(m)) {
      throw new ModelConfigError(`${reader.locate("modules.json")} has a non-object entry`);
    }
    return { path: String(m.path ?? ""), type: String(m.type ?? "") };
  });
}

async function readDense(reader: FolderReader, path: string): Promise<DenseLayer> {
  const where = reader.locate(path);
  const cfg = parseDenseConfig(await readJsonIfExists(reader, join(path, "config.json")), where);
  const rel = join(path, "model.safetensors");
  const file = reader.locate(rel);
  if (!(await reader.exists(rel))) {
    throw new ModelConfigError(`${where}: Dense weights must be in model.safetensors`);
  }
  const tensors = parseSafetensors(await reader.read(rel));
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

const isType = (m: StModule, name: string) => m.type.endsWith(`.${name}`);

/**
 * A SparseEncoder's SPLADE modules: a `SpladePooling` in modules.json, or in the document route
 * of a sentence-transformers 5 `Router`, whose query route may be a `SparseStaticEmbedding`
 * (inference-free SPLADE: its weights in `model.safetensors`, else the folder's `idf.json`).
 */
async function readSpladeModules(
  reader: FolderReader,
  modules: readonly StModule[],
): Promise<SpladeFolder | null> {
  const pooling = modules.find((m) => isType(m, "SpladePooling"));
  if (pooling) {
    const json = await readJsonIfExists(reader, join(pooling.path, "config.json"));
    return {
      pooling: parseSpladePooling(json, reader.locate(pooling.path)),
      queryWeights: null,
      inferenceFreeQueries: false,
      defaultRoute: "document",
    };
  }
  const router = modules.find((m) => isType(m, "Router"));
  if (!router) return null;
  const where = join(router.path, "router_config.json");
  const config = parseRouterConfig(await readJsonIfExists(reader, where), reader.locate(where));
  const inRoute = (route: string, type: string) =>
    (config.routes[route] ?? []).find((m) => isType(m, type));
  const docPooling = inRoute("document", "SpladePooling");
  if (!docPooling) return null;
  const poolingPath = join(router.path, docPooling.path);
  const poolingConfig = parseSpladePooling(
    await readJsonIfExists(reader, join(poolingPath, "config.json")),
    reader.locate(poolingPath),
  );
  const staticQuery = inRoute("query", "SparseStaticEmbedding");
  let queryWeights: Float32Array | null = null;
  if (staticQuery) {
    const rel = join(join(router.path, staticQuery.path), "model.safetensors");
    if (await reader.exists(rel)) {
      const weight = parseSafetensors(await reader.read(rel)).get("weight");
      if (weight?.shape.length !== 1) {
        throw new ModelConfigError(`${reader.locate(rel)}: weight must be one value per token`);
      }
      queryWeights = weight.data;
    }
  }
  return {
    pooling: poolingConfig,
    queryWeights,
    inferenceFreeQueries: staticQuery !== undefined,
    defaultRoute: config.defaultRoute === "query" ? "query" : "document",
  };
}

/**
 * A Stanford ColBERT checkpoint's projection: `linear.weight` (vLLM also reads
 * `colbert_linear.weight`) in the checkpoint's `model.safetensors`, beside the ONNX export.
 */
async function readStanfordProjection(reader: FolderReader): Promise<DenseLayer> {
  const rel = "model.safetensors";
  if (!(await reader.exists(rel))) {
    throw new ModelConfigError(
      `${reader.locate(rel)} is missing: a Stanford ColBERT checkpoint (${STANFORD_COLBERT_ARCHITECTURE}) keeps its projection (linear.weight) there`,
    );
  }
  const tensors = parseSafetensors(await reader.read(rel));
  const weight = tensors.get("linear.weight") ?? tensors.get("colbert_linear.weight");
  if (weight?.shape.length !== 2) {
    throw new ModelConfigError(
      `${reader.locate(rel)} has no linear.weight [dim, hidden]: the ColBERT projection`,
    );
  }
  const [outFeatures, inFeatures] = weight.shape as [number, number];
  return { inFeatures, outFeatures, weight: weight.data, bias: null, activation: "identity" };
}

/** What a session needs to start: the config and the ONNX file, read before the rest. */
export interface FolderHead {
  config: ModelConfig;
  /** The ONNX file relative to the folder. */
  onnxFile: string;
}

export async function readFolderHead(reader: FolderReader, onnxFile?: string): Promise<FolderHead> {
  const config = (await readJson(reader, "config.json")) as ModelConfig;
  return { config, onnxFile: await findOnnx(reader, onnxFile) };
}

/**
 * Parse a Hugging Face / optimum model folder through `reader`: config, tokenizer, ONNX file and
 * sentence-transformers modules. Runtime-neutral (the Node server reads a directory, the edge
 * Worker a verified R2 prefix). `head`, when given, is what `readFolderHead` already read.
 */
export async function parseModelFolder(
  reader: FolderReader,
  onnxFile?: string,
  head?: FolderHead,
): Promise<ModelFolder> {
  const config = head?.config ?? ((await readJson(reader, "config.json")) as ModelConfig);
  const tokenizerJson = await readJson(reader, "tokenizer.json");
  const tokenizerConfig = (await reader.exists("tokenizer_config.json"))
    ? await readJson(reader, "tokenizer_config.json")
    : {};
  const modules = await readModules(reader);
  const hasNormalize = modules.some((m) => m.type.endsWith(".Normalize"));
  const poolingModule = modules.find((m) => m.type.endsWith(".Pooling"));
  let stPooling: SentenceTransformersPooling | null = null;
  if (poolingModule) {
    const json = await readJsonIfExists(reader, join(poolingModule.path, "config.json"));
    stPooling = poolingFromSentenceTransformers(json, hasNormalize);
  }
  const dense: DenseLayer[] = [];
  for (const m of modules.filter((m) => m.type.endsWith(".Dense"))) {
    dense.push(await readDense(reader, m.path));
  }
  const stConfig = await readJsonIfExists(reader, "config_sentence_transformers.json");
  const colbert = colbertSettings(
    config,
    stConfig,
    await readJsonIfExists(reader, "artifact.metadata"),
  );
  if (
    colbert &&
    dense.length === 0 &&
    config.architectures?.[0] === STANFORD_COLBERT_ARCHITECTURE
  ) {
    dense.push(await readStanfordProjection(reader));
  }
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
  const sbert = await readJsonIfExists(reader, "sentence_bert_config.json");
  const maxSeq = isJsonObject(sbert) ? sbert.max_seq_length : undefined;
  const onnx = head?.onnxFile ?? (await findOnnx(reader, onnxFile));
  return {
    dir: reader.locate(""),
    reader,
    config,
    tokenizerJson,
    tokenizerConfig,
    onnxPath: reader.locate(onnx),
    onnxFile: onnx,
    stPooling,
    stMaxSeqLength: typeof maxSeq === "number" ? maxSeq : undefined,
    dense,
    prompts,
    defaultPromptName,
    splade: await readSpladeModules(reader, modules),
    idf: await readJsonIfExists(reader, "idf.json"),
    colbert,
  };
}
