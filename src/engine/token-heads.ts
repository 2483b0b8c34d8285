import {
  type DenseLayer,
  isBgeM3,
  type ModelConfig,
  ModelConfigError,
  parseSafetensors,
  type TokenHeads,
} from "../core/index.js";
import type { FolderReader } from "./folder.js";

/** A `nn.Linear` head saved as safetensors (`weight` [out, in], `bias` [out]). */
async function readLinear(
  folder: FolderReader,
  name: string,
  inFeatures: number,
): Promise<DenseLayer> {
  const file = folder.locate(`${name}.safetensors`);
  if (!(await folder.exists(`${name}.safetensors`))) {
    const pt = (await folder.exists(`${name}.pt`))
      ? ` ${name}.pt is a PyTorch pickle, which edgepool does not read: convert it with scripts/bge-m3-heads-to-safetensors.py ${folder.locate("")}`
      : "";
    throw new ModelConfigError(`${file} is missing (bge-m3's ${name} head).${pt}`);
  }
  const tensors = parseSafetensors(await folder.read(`${name}.safetensors`));
  const weight = tensors.get("weight");
  if (weight?.shape.length !== 2 || weight.shape[1] !== inFeatures) {
    throw new ModelConfigError(`${file}: weight must have shape [out, ${inFeatures}]`);
  }
  const outFeatures = weight.shape[0]!;
  const bias = tensors.get("bias")?.data ?? null;
  if (bias && bias.length !== outFeatures) {
    throw new ModelConfigError(`${file}: bias must have ${outFeatures} values`);
  }
  return { inFeatures, outFeatures, weight: weight.data, bias, activation: "identity" };
}

/**
 * bge-m3's sparse and ColBERT heads, read from `sparse_linear.safetensors` and
 * `colbert_linear.safetensors` beside the model when the architecture is `BgeM3EmbeddingModel`
 * (vLLM's `--hf-overrides` switch); null for every other model.
 */
export async function readTokenHeads(
  folder: FolderReader,
  config: ModelConfig,
  hiddenSize: number,
  special: { bos: number | null; eos: number | null },
): Promise<TokenHeads | null> {
  if (!isBgeM3(config)) return null;
  const sparse = await readLinear(folder, "sparse_linear", hiddenSize);
  if (sparse.outFeatures !== 1) {
    throw new ModelConfigError(
      `${folder.locate("sparse_linear.safetensors")} must map ${hiddenSize} → 1`,
    );
  }
  const colbert = await readLinear(folder, "colbert_linear", hiddenSize);
  const id = (v: unknown, fallback: number | null) => (typeof v === "number" ? v : fallback);
  return {
    sparse,
    colbert,
    bosTokenId: id(config.bos_token_id, special.bos),
    eosTokenId: id(config.eos_token_id, special.eos),
  };
}
