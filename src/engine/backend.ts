import type { OutputRead, PaddedBatch } from "./batch.js";
import type { ModelOutput, OnnxModel, OutputTensor, RunDevice } from "./onnx-model.js";

/** What the scheduler knows of a micro-batch when it hands it over. */
export interface RunHint {
  /** Nothing else is queued or running: the batch runs alone. */
  alone?: boolean;
}

/** Where micro-batches run: in this thread, in a pool of worker threads, or either. */
export interface Backend {
  /** Graph outputs usable for pooling. */
  readonly outputs: ModelOutput[];
  /** How many micro-batches may be handed over at once (computing or queued behind one). */
  readonly slots: number;
  /** How many micro-batches compute at the same time (sessions). */
  readonly sessions: number;
  /** The execution provider the sessions run on. */
  readonly device: RunDevice;
  /** Why `--device auto` fell back to the CPU, or null. */
  readonly fallback: string | null;
  /** A small micro-batch that runs alone runs on the calling thread (else in a worker). */
  readonly loneHere?: boolean;
  /** Run a micro-batch; one result per read, in order (several reads of one run share it). */
  run(batch: PaddedBatch, reads: readonly OutputRead[], hint?: RunHint): Promise<OutputTensor[]>;
  close(): Promise<void>;
}

/**
 * Runs the session on the calling thread. `session.run()` blocks this thread while it computes,
 * so a server should use the worker pool; the library and the edge Worker use this.
 */
export class InThreadBackend implements Backend {
  readonly loneHere = true;
  readonly slots = 1;
  readonly sessions = 1;
  readonly outputs: ModelOutput[];
  readonly device: RunDevice;
  readonly fallback: string | null;
  private readonly model: OnnxModel;

  constructor(model: OnnxModel) {
    this.model = model;
    this.outputs = model.outputs;
    this.device = model.device;
    this.fallback = model.fallback;
  }

  run(batch: PaddedBatch, reads: readonly OutputRead[]): Promise<OutputTensor[]> {
    return this.model.run(batch, reads);
  }

  close(): Promise<void> {
    return this.model.release();
  }
}
