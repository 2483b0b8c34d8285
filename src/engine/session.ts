import * as ort from "onnxruntime-node";
import { type ModelConfig, ModelConfigError, type ModelOutputKind } from "../core/index.js";
import { gatherOutput, type OutputGather, type PaddedBatch } from "./batch.js";

export type Device = "cpu" | "cuda";

export interface SessionOptions {
  device?: Device;
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
  /** ONNX Runtime's CPU memory arena (faster repeated runs, more resident memory). Default on. */
  enableCpuMemArena?: boolean;
  /** Pre-plan memory for repeated input shapes. Default on. */
  enableMemPattern?: boolean;
  /**
   * Let ONNX Runtime's threads spin between the parallel sections of a run (its default): a run
   * of a short sequence is ~1.5 ms faster than with threads that sleep and are woken for each
   * operator. Spinning stops as soon as the last run returns (`session.force_spinning_stop`), so
   * idle threads never take the event loop's cycles. Default on.
   */
  allowSpinning?: boolean;
}

export interface ModelOutput {
  name: string;
  kind: ModelOutputKind;
}

export interface OutputTensor {
  data: Float32Array;
  dims: readonly number[];
}

const KNOWN_INPUTS = new Set(["input_ids", "attention_mask", "token_type_ids", "position_ids"]);

function outputKind(name: string, rank: number): ModelOutputKind | null {
  if (name === "last_hidden_state" || name === "token_embeddings") return "hidden";
  if (name === "logits" && rank === 2) return "sequence_logits";
  if (name === "logits" && rank === 3) return "token_logits";
  return null;
}

/** An onnxruntime-node session with the input names read from the graph. */
export class OnnxModel {
  readonly outputs: ModelOutput[];
  readonly device: Device;
  private readonly session: ort.InferenceSession;
  private readonly inputs: Set<string>;
  private readonly pastKv: string[];
  private readonly kvShape: [number, number];

  private constructor(session: ort.InferenceSession, device: Device, config: ModelConfig) {
    this.session = session;
    this.device = device;
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

  static async load(
    path: string,
    config: ModelConfig,
    opts: SessionOptions = {},
  ): Promise<OnnxModel> {
    const device = opts.device ?? "cpu";
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: device === "cuda" ? ["cuda"] : ["cpu"],
      graphOptimizationLevel: opts.graphOptimizationLevel ?? "all",
    };
    options.extra =
      opts.allowSpinning === false
        ? { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } }
        : { session: { force_spinning_stop: "1" } };
    if (opts.enableCpuMemArena !== undefined) options.enableCpuMemArena = opts.enableCpuMemArena;
    if (opts.enableMemPattern !== undefined) options.enableMemPattern = opts.enableMemPattern;
    if (opts.intraOpNumThreads) options.intraOpNumThreads = opts.intraOpNumThreads;
    if (opts.interOpNumThreads) options.interOpNumThreads = opts.interOpNumThreads;
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(path, options);
    } catch (err) {
      const hint =
        device === "cuda" ? " (is the CUDA execution provider installed and a GPU present?)" : "";
      throw new ModelConfigError(
        `Could not load ${path} on ${device}${hint}: ${(err as Error).message}`,
      );
    }
    return new OnnxModel(session, device, config);
  }

  outputFor(kind: ModelOutputKind): ModelOutput | undefined {
    return this.outputs.find((o) => o.kind === kind);
  }

  /** Run one padded micro-batch and return the named output (only the gathered part, when given). */
  async run(batch: PaddedBatch, output: string, gather?: OutputGather): Promise<OutputTensor> {
    const dims = [batch.batch, batch.seqLen];
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", batch.inputIds, dims),
    };
    if (this.inputs.has("attention_mask"))
      feeds.attention_mask = new ort.Tensor("int64", batch.attentionMask, dims);
    if (this.inputs.has("token_type_ids"))
      feeds.token_type_ids = new ort.Tensor("int64", batch.tokenTypeIds, dims);
    if (this.inputs.has("position_ids"))
      feeds.position_ids = new ort.Tensor("int64", batch.positionIds, dims);
    for (const name of this.pastKv) {
      feeds[name] = new ort.Tensor("float32", new Float32Array(0), [
        batch.batch,
        this.kvShape[0],
        0,
        this.kvShape[1],
      ]);
    }
    if (this.inputs.has("use_cache_branch"))
      feeds.use_cache_branch = new ort.Tensor("bool", [false], [1]);
    const result = await this.session.run(feeds, [output]);
    const tensor = result[output];
    if (tensor?.type !== "float32") {
      throw new ModelConfigError(
        `ONNX output ${output} is ${tensor?.type ?? "missing"}, expected float32`,
      );
    }
    const data = tensor.data as Float32Array;
    return gather ? gatherOutput(data, tensor.dims, gather) : { data, dims: tensor.dims };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
