import { ModelConfigError } from "./errors.js";
import { isJsonObject, type ModelConfig } from "./model-config.js";
import { ownValue } from "./own.js";
import type { SpladeActivation, SpladePoolingStrategy, SpladeReduce } from "./splade.js";

/** vLLM's architecture for a BERT masked-LM served as SPLADE (`--hf-overrides`). */
export const SPLADE_ARCHITECTURE = "BertSpladeSparseEmbeddingModel";

export function isSpladeArchitecture(config: ModelConfig): boolean {
  return (config.architectures ?? []).includes(SPLADE_ARCHITECTURE);
}

/** `SpladePooling/config.json`: the pooling strategy and activation. */
export interface SpladePoolingConfig {
  pooling: SpladePoolingStrategy;
  activation: SpladeActivation;
}

/** vLLM's `BertSpladeSparseEmbeddingModel` defaults, which are also `SpladePooling`'s. */
export const SPLADE_DEFAULTS: SpladePoolingConfig = { pooling: "max", activation: "relu" };

/** Read a sentence-transformers `SpladePooling` config (missing keys take its defaults). */
export function parseSpladePooling(json: unknown, where: string): SpladePoolingConfig {
  const obj = isJsonObject(json) ? json : {};
  const pooling = obj.pooling_strategy ?? SPLADE_DEFAULTS.pooling;
  const activation = obj.activation_function ?? SPLADE_DEFAULTS.activation;
  if (pooling !== "max" && pooling !== "sum") {
    throw new ModelConfigError(
      `${where}: pooling_strategy '${String(pooling)}' is not supported; SPLADE pools by 'max' or 'sum'`,
    );
  }
  if (activation !== "relu" && activation !== "log1p_relu") {
    throw new ModelConfigError(
      `${where}: activation_function '${String(activation)}' is not supported; supported: 'relu', 'log1p_relu'`,
    );
  }
  return { pooling, activation };
}

/** The reduction the session applies: pooling, activation, and vLLM's [CLS]/[SEP] removal. */
export function spladeReduce(pooling: SpladePoolingConfig, config: ModelConfig): SpladeReduce {
  const id = (v: unknown) => (typeof v === "number" && Number.isInteger(v) ? v : null);
  return { ...pooling, clsTokenId: id(config.cls_token_id), sepTokenId: id(config.sep_token_id) };
}

/** One route of a sentence-transformers `Router`: its modules' folders and types. */
export interface RouterModule {
  path: string;
  type: string;
}

export interface RouterConfig {
  routes: Record<string, RouterModule[]>;
  defaultRoute: string | null;
}

/**
 * `router_config.json` of a sentence-transformers 5 `Router` (asymmetric models): `structure`
 * maps a route (`query`, `document`) to module ids, each a folder whose type `types` names.
 */
export function parseRouterConfig(json: unknown, where: string): RouterConfig {
  if (!isJsonObject(json) || !isJsonObject(json.structure) || !isJsonObject(json.types)) {
    throw new ModelConfigError(`${where} must hold "types" and "structure" objects`);
  }
  const types = json.types;
  const routes: Record<string, RouterModule[]> = {};
  for (const [route, ids] of Object.entries(json.structure)) {
    if (!Array.isArray(ids) || ids.some((i) => typeof i !== "string")) {
      throw new ModelConfigError(`${where}: structure.${route} must list module ids`);
    }
    routes[route] = (ids as string[]).map((id) => {
      const type = ownValue(types, id);
      if (typeof type !== "string") {
        throw new ModelConfigError(`${where}: module '${id}' has no type in "types"`);
      }
      return { path: id, type };
    });
  }
  const params = isJsonObject(json.parameters) ? json.parameters : {};
  const fallback = params.allow_empty_key === false ? null : (Object.keys(routes)[0] ?? null);
  const defaultRoute = typeof params.default_route === "string" ? params.default_route : fallback;
  return { routes, defaultRoute };
}

/**
 * An `idf.json` (token → weight, OpenSearch's inference-free models) as weights by token id;
 * tokens the tokenizer does not know are left out.
 */
export function idfWeights(
  json: unknown,
  tokenId: (token: string) => number | null,
  size: number,
  where: string,
): Float32Array {
  if (!isJsonObject(json)) throw new ModelConfigError(`${where} must map tokens to weights`);
  const weights = new Float32Array(size);
  for (const [token, w] of Object.entries(json)) {
    if (typeof w !== "number" || !Number.isFinite(w)) {
      throw new ModelConfigError(`${where}: the weight of '${token}' is not a number`);
    }
    const id = tokenId(token);
    if (id !== null && id < size) weights[id] = w;
  }
  return weights;
}
