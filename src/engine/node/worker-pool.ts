import type { Worker } from "node:worker_threads";
import { type ModelConfig, ModelConfigError } from "../../core/index.js";
import type { Backend } from "../backend.js";
import type { OutputRead, PaddedBatch } from "../batch.js";
import { takeWorker } from "./prewarm.js";
import type { ModelOutput, OutputTensor, RunDevice, SessionOptions } from "./session.js";
import type { WorkerInit, WorkerReply, WorkerRequest } from "./session-worker.js";

interface Pending {
  resolve: (t: OutputTensor[]) => void;
  reject: (e: Error) => void;
}

type Ready = Extract<WorkerReply, { type: "ready" }>;

interface Slot {
  worker: Worker;
  busy: number;
}

/**
 * Micro-batches handed to each worker at once: the next one waits in the worker's queue while
 * the current one computes, so the session does not idle while the event loop writes the last
 * batch's responses and forms the next (measured in docs/performance.md).
 */
export const PIPELINE_DEPTH = 2;

/**
 * ONNX sessions in worker threads, one per worker, so the event loop keeps accepting,
 * tokenizing and serialising while the model computes. Input arrays are transferred, not copied.
 */
export class WorkerPoolBackend implements Backend {
  readonly outputs: ModelOutput[];
  readonly slots: number;
  readonly sessions: number;
  readonly device: RunDevice;
  readonly fallback: string | null;
  private readonly workers: Slot[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  private constructor(workers: Slot[], ready: Ready) {
    this.workers = workers;
    this.outputs = ready.outputs;
    this.device = ready.device;
    this.fallback = ready.fallback;
    this.sessions = workers.length;
    this.slots = workers.length * PIPELINE_DEPTH;
    for (const slot of workers) {
      slot.worker.on("message", (msg: WorkerReply) => this.onMessage(slot, msg));
      slot.worker.on("error", (err) => this.failAll(err));
    }
  }

  static async create(
    path: string,
    config: ModelConfig,
    session: SessionOptions,
    count: number,
  ): Promise<WorkerPoolBackend> {
    const init: WorkerInit = { path, config, session };
    const started = await Promise.allSettled(
      Array.from({ length: count }, () => {
        const worker = takeWorker();
        worker.ref();
        worker.postMessage({ type: "init", init } satisfies WorkerRequest);
        return new Promise<{ worker: Worker; ready: Ready }>((resolve, reject) => {
          worker.once("message", (msg: WorkerReply) => {
            if (msg.type === "ready") resolve({ worker, ready: msg });
            else if (msg.type === "error") reject(new ModelConfigError(msg.message));
          });
          worker.once("error", reject);
        });
      }),
    );
    const failed = started.find((s) => s.status === "rejected");
    const ok = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    if (failed) {
      await Promise.all(ok.map((w) => w.worker.terminate()));
      throw failed.reason;
    }
    return new WorkerPoolBackend(
      ok.map((w) => ({ worker: w.worker, busy: 0 })),
      ok[0]!.ready,
    );
  }

  private onMessage(slot: Slot, msg: WorkerReply): void {
    if (msg.type !== "result" && msg.type !== "error") return;
    if (msg.id === null) return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    slot.busy--;
    if (msg.type === "result") p.resolve(msg.outputs);
    else p.reject(new ModelConfigError(`ONNX Runtime failed: ${msg.message}`));
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  run(batch: PaddedBatch, reads: readonly OutputRead[]): Promise<OutputTensor[]> {
    const slot = this.workers.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    slot.busy++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const msg: WorkerRequest = { type: "run", id, batch, reads };
      const buffers = [batch.inputIds, batch.attentionMask, batch.tokenTypeIds, batch.positionIds];
      slot.worker.postMessage(
        msg,
        buffers.map((b) => b.buffer as ArrayBuffer),
      );
    });
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.worker.once("exit", () => resolve());
            s.worker.postMessage({ type: "close" } satisfies WorkerRequest);
            setTimeout(() => void s.worker.terminate().then(() => resolve()), 2000).unref();
          }),
      ),
    );
  }
}
