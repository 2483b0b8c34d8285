// Types only (erased): onnxruntime-node and onnxruntime-web share onnxruntime-common's API.
import type { InferenceSession, Tensor } from "onnxruntime-node";
// The session worker loads this: only the modules it needs, not the whole core.
import { ModelConfigError } from "../core/errors.js";
import type { ModelConfig } from "../core/model-config.js";
import type { ModelOutputKind } from "../core/tasks.js";
import { applyRead, type OutputRead, type OutputTensor, type PaddedBatch } from "./batch.js";

export type { OutputRead, OutputTensor } from "./batch.js";

/** Where the session runs: `auto` tries CUDA and falls back to the CPU. */
export type Device = "cpu" | "cuda" | "auto";
/** The execution provider a session actually runs on. */
export type RunDevice = Exclude<Device, "auto">;

export interface ModelOutput {
  name: string;
  kind: ModelOutputKind;
}

/** The `Tensor` class of whichever ONNX Runtime package (node or web) made the session. */
export type TensorClass = typeof Tensor;

/**
 * A failed run throws with ONNX Runtime's whole message, and its caller reports it: the load-time
 * probes of the graph's limits expect failures, a request's becomes its error answer and log line.
 * ONNX Runtime's own copy, an unstructured red line on stderr per failure, is left out (4: fatal).
 */
const RUN_OPTIONS: InferenceSession.RunOptions = { logSeverityLevel: 4 };

const KNOWN_INPUTS = new Set(["input_ids", "attention_mask", "token_type_ids", "position_ids"]);

/** bge-m3's three-output exports, under the names they use (FlagEmbedding's, and others'). */
const M3_OUTPUTS: Readonly<Record<string, ModelOutputKind>> = {
  dense_vecs: "m3_dense",
  dense_embeddings: "m3_dense",
  sparse_vecs: "m3_sparse",
  sparse_weights: "m3_sparse",
  colbert_vecs: "m3_colbert",
  colbert_vectors: "m3_colbert",
};

function outputKind(name: string, rank: number): ModelOutputKind | null {
  if (name === "last_hidden_state" || name === "token_embeddings") return "hidden";
  if (Object.hasOwn(M3_OUTPUTS, name)) return M3_OUTPUTS[name]!;
  if (name === "logits" && rank === 2) return "sequence_logits";
  if (name === "logits" && rank === 3) return "token_logits";
  return null;
}

/**
 * An ONNX Runtime session with the input names read from the graph. Runtime-neutral: the Node
 * server hands it an `onnxruntime-node` session, the edge Worker an `onnxruntime-web` one.
 */
export class OnnxModel {
  readonly outputs: ModelOutput[];
  readonly device: RunDevice;
  /** Why `auto` fell back to the CPU, or null. */
  readonly fallback: string | null;
  private readonly session: InferenceSession;
  private readonly Tensor: TensorClass;
  private readonly inputs: Set<string>;
  private readonly pastKv: string[];
  private readonly kvShape: [number, number];

  constructor(
    session: InferenceSession,
    tensor: TensorClass,
    config: ModelConfig,
    device: RunDevice = "cpu",
    fallback: string | null = null,
  ) {
    this.session = session;
    this.Tensor = tensor;
    this.device = device;
    this.fallback = fallback;
    this.inputs = new Set(session.inputNames);
    this.pastKv = session.inputNames.filter((n) => n.startsWith("past_key_values"));
    const unknown = session.inputNames.filter(
      (n) => !KNOWN_INPUTS.has(n) && !n.startsWith("past_key_values") && n !== "use_cache_branch",
    );
    if (!this.inputs.has("input_ids"))
      throw new ModelConfigError("The ONNX graph has no input_ids input");
    if (unknown.length > 0) {
      throw new ModelConfigError(
        `The ONNX graph needs inputs edgepool cannot fill: ${unknown.join(", ")}`,
      );
    }
    const heads = config.num_attention_heads ?? 1;
    const headDim = config.head_dim ?? Math.floor((config.hidden_size ?? heads) / heads);
    this.kvShape = [config.num_key_value_heads ?? heads, headDim];
    this.outputs = session.outputMetadata.flatMap((m) => {
      const rank = m.isTensor ? m.shape.length : 0;
      const kind = outputKind(m.name, rank);
      return kind ? [{ name: m.name, kind }] : [];
    });
  }

  outputFor(kind: ModelOutputKind): ModelOutput | undefined {
    return this.outputs.find((o) => o.kind === kind);
  }

  /** Run one padded micro-batch and return what each read keeps of the output it names. */
  async run(batch: PaddedBatch, reads: readonly OutputRead[]): Promise<OutputTensor[]> {
    const T = this.Tensor;
    const dims = [batch.batch, batch.seqLen];
    const feeds: Record<string, Tensor> = {
      input_ids: new T("int64", batch.inputIds, dims),
    };
    if (this.inputs.has("attention_mask"))
      feeds.attention_mask = new T("int64", batch.attentionMask, dims);
    if (this.inputs.has("token_type_ids"))
      feeds.token_type_ids = new T("int64", batch.tokenTypeIds, dims);
    if (this.inputs.has("position_ids"))
      feeds.position_ids = new T("int64", batch.positionIds, dims);
    for (const name of this.pastKv) {
      feeds[name] = new T("float32", new Float32Array(0), [
        batch.batch,
        this.kvShape[0],
        0,
        this.kvShape[1],
      ]);
    }
    if (this.inputs.has("use_cache_branch")) feeds.use_cache_branch = new T("bool", [false], [1]);
    const names = [...new Set(reads.map((r) => r.name))];
    const result = await this.session.run(feeds, names, RUN_OPTIONS);
    return reads.map((read) => {
      const tensor = result[read.name];
      if (tensor?.type !== "float32") {
        throw new ModelConfigError(
          `ONNX output ${read.name} is ${tensor?.type ?? "missing"}, expected float32`,
        );
      }
      return applyRead(tensor.data as Float32Array, tensor.dims, batch, read);
    });
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
