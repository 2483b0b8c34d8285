import type { ModelConfig } from "../core/index.js";
import type { OutputGather, PaddedBatch } from "./batch.js";
import type { ModelOutput, OnnxModel, OutputTensor, SessionOptions } from "./session.js";

/** Where micro-batches run: in this thread, or in a pool of worker threads. */
export interface Backend {
  /** Graph outputs usable for pooling. */
  readonly outputs: ModelOutput[];
  /** How many micro-batches may run at once. */
  readonly slots: number;
  run(batch: PaddedBatch, output: string, gather?: OutputGather): Promise<OutputTensor>;
  close(): Promise<void>;
}

/**
 * Runs the session on the calling thread. `session.run()` blocks this thread while it computes,
 * so a server should use the worker pool; the library uses this by default.
 */
export class InThreadBackend implements Backend {
  readonly slots = 1;
  readonly outputs: ModelOutput[];
  private readonly model: OnnxModel;

  private constructor(model: OnnxModel) {
    this.model = model;
    this.outputs = model.outputs;
  }

  static async create(
    path: string,
    config: ModelConfig,
    opts: SessionOptions,
  ): Promise<InThreadBackend> {
    // Loaded on demand: a server whose sessions live in workers never loads ONNX Runtime here.
    const { OnnxModel } = await import("./session.js");
    return new InThreadBackend(await OnnxModel.load(path, config, opts));
  }

  run(batch: PaddedBatch, output: string, gather?: OutputGather): Promise<OutputTensor> {
    return this.model.run(batch, output, gather);
  }

  close(): Promise<void> {
    return this.model.release();
  }
}
