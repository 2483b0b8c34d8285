import { type ActivationName, activate } from "./activation.js";
import { ModelConfigError } from "./errors.js";
import { isJsonObject } from "./model-config.js";
import { ownValue } from "./own.js";

/** A sentence-transformers `Dense` module: `activation(W x + b)`. `weight` is row-major `[out, in]`. */
export interface DenseLayer {
  inFeatures: number;
  outFeatures: number;
  weight: Float32Array;
  bias: Float32Array | null;
  activation: ActivationName;
}

const ACTIVATIONS: Record<string, ActivationName> = {
  "torch.nn.modules.activation.Tanh": "tanh",
  "torch.nn.modules.linear.Identity": "identity",
  "torch.nn.modules.activation.ReLU": "relu",
  "torch.nn.modules.activation.GELU": "gelu",
  "torch.nn.modules.activation.Sigmoid": "sigmoid",
  "torch.nn.Tanh": "tanh",
  "torch.nn.Identity": "identity",
};

export interface DenseConfig {
  inFeatures: number;
  outFeatures: number;
  bias: boolean;
  activation: ActivationName;
}

/** Read `2_Dense/config.json`. */
export function parseDenseConfig(json: unknown, where: string): DenseConfig {
  if (!isJsonObject(json)) throw new ModelConfigError(`${where}/config.json is not an object`);
  const inFeatures = json.in_features;
  const outFeatures = json.out_features;
  if (!Number.isInteger(inFeatures) || !Number.isInteger(outFeatures)) {
    throw new ModelConfigError(`${where}/config.json needs integer in_features and out_features`);
  }
  const name = String(json.activation_function ?? "torch.nn.modules.linear.Identity");
  const activation = ownValue(ACTIVATIONS, name);
  if (!activation) {
    throw new ModelConfigError(`${where}: unsupported activation_function '${name}'`);
  }
  return {
    inFeatures: inFeatures as number,
    outFeatures: outFeatures as number,
    bias: json.bias !== false,
    activation,
  };
}

export function applyDense(layer: DenseLayer, input: ArrayLike<number>): Float32Array {
  if (input.length !== layer.inFeatures) {
    throw new ModelConfigError(
      `Dense layer expects ${layer.inFeatures} features but the pooled vector has ${input.length}`,
    );
  }
  const out = new Float32Array(layer.outFeatures);
  for (let o = 0; o < layer.outFeatures; o++) {
    let sum = layer.bias ? layer.bias[o]! : 0;
    const base = o * layer.inFeatures;
    for (let i = 0; i < layer.inFeatures; i++) sum += layer.weight[base + i]! * input[i]!;
    out[o] = sum;
  }
  return activate(layer.activation, out);
}
