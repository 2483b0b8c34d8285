import "./ort-env.js";
import * as ort from "onnxruntime-node";
import { ModelConfigError } from "../../core/errors.js";
import type { ModelConfig } from "../../core/model-config.js";
import { type Device, OnnxModel, type RunDevice } from "../onnx-model.js";

export {
  type Device,
  type ModelOutput,
  OnnxModel,
  type OutputTensor,
  type RunDevice,
} from "../onnx-model.js";

export interface SessionOptions {
  device?: Device;
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
  /** ONNX Runtime's CPU memory arena (faster repeated runs, more resident memory). Default on. */
  enableCpuMemArena?: boolean;
  /**
   * ONNX Runtime's memory pattern: one block planned per input shape. Default off: with the
   * varying shapes of cross-request micro-batches the arena kept a block per shape (peak RSS
   * ~80 MiB higher on the mixed workload, docs/performance.md), for a few percent of speed.
   */
  enableMemPattern?: boolean;
  /**
   * Let ONNX Runtime's threads spin between the parallel sections of a run (its default): a run
   * of a short sequence is ~1.5 ms faster than with threads that sleep and are woken for each
   * operator. Spinning stops as soon as the last run returns (`session.force_spinning_stop`), so
   * idle threads never take the event loop's cycles. Default on.
   */
  allowSpinning?: boolean;
}

function sessionOptions(
  device: RunDevice,
  opts: SessionOptions,
): ort.InferenceSession.SessionOptions {
  const options: ort.InferenceSession.SessionOptions = {
    // ONNX Runtime does not fall back when a listed provider fails to load: one provider only.
    executionProviders: [device],
    graphOptimizationLevel: opts.graphOptimizationLevel ?? "all",
  };
  options.extra =
    opts.allowSpinning === false
      ? { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } }
      : { session: { force_spinning_stop: "1" } };
  if (opts.enableCpuMemArena !== undefined) options.enableCpuMemArena = opts.enableCpuMemArena;
  options.enableMemPattern = opts.enableMemPattern ?? false;
  if (opts.intraOpNumThreads) options.intraOpNumThreads = opts.intraOpNumThreads;
  if (opts.interOpNumThreads) options.interOpNumThreads = opts.interOpNumThreads;
  return options;
}

async function create(path: string, device: RunDevice, opts: SessionOptions) {
  try {
    return await ort.InferenceSession.create(path, sessionOptions(device, opts));
  } catch (err) {
    const hint =
      device === "cuda" ? " (is the CUDA execution provider installed and a GPU present?)" : "";
    throw new ModelConfigError(
      `Could not load ${path} on ${device}${hint}: ${(err as Error).message}`,
    );
  }
}

/**
 * Load an ONNX file with onnxruntime-node. `device: "auto"` tries CUDA first and, when that
 * throws (no provider libraries, no GPU, no driver), retries on the CPU and records why in
 * `fallback`; a CPU failure after that is reported as such.
 */
export async function loadOnnxModel(
  path: string,
  config: ModelConfig,
  opts: SessionOptions = {},
): Promise<OnnxModel> {
  const device = opts.device ?? "cpu";
  if (device !== "auto")
    return new OnnxModel(await create(path, device, opts), ort.Tensor, config, device);
  // ONNX Runtime prints its own multi-line error when the CUDA provider fails to load; the reason
  // is in the exception, which becomes our one log line. Failures later still throw.
  ort.env.logLevel = "fatal";
  try {
    return new OnnxModel(await create(path, "cuda", opts), ort.Tensor, config, "cuda");
  } catch (err) {
    const why = (err as Error).message;
    const session = await create(path, "cpu", opts);
    return new OnnxModel(session, ort.Tensor, config, "cpu", `CUDA unavailable: ${why}`);
  }
}
