import { parentPort } from "node:worker_threads";
import type { ModelConfig } from "../../core/index.js";
import type { OutputRead, PaddedBatch } from "../batch.js";
import {
  loadOnnxModel,
  type OnnxModel,
  type OutputTensor,
  type SessionOptions,
} from "./session.js";

/** Messages between the pool and a session worker. */
export type WorkerRequest =
  | { type: "init"; init: WorkerInit }
  | { type: "run"; id: number; batch: PaddedBatch; reads: readonly OutputRead[] }
  | { type: "close" };
export type WorkerReply =
  | {
      type: "ready";
      outputs: OnnxModel["outputs"];
      device: OnnxModel["device"];
      fallback: string | null;
    }
  | { type: "result"; id: number; outputs: OutputTensor[] }
  | { type: "error"; id: number | null; message: string; name: string };

export interface WorkerInit {
  path: string;
  config: ModelConfig;
  session: SessionOptions;
}

const port = parentPort;
if (!port) throw new Error("session-worker must run in a worker thread");
// ONNX Runtime is loaded as soon as the thread starts (possibly before the model is known),
// then the session is created when the init message arrives.
const init = await new Promise<WorkerInit>((resolve) => {
  port.once("message", (msg: WorkerRequest) => {
    if (msg.type === "init") resolve(msg.init);
  });
});

try {
  const model = await loadOnnxModel(init.path, init.config, init.session);
  port.postMessage({
    type: "ready",
    outputs: model.outputs,
    device: model.device,
    fallback: model.fallback,
  } satisfies WorkerReply);
  port.on("message", async (msg: WorkerRequest) => {
    if (msg.type === "close") {
      await model.release();
      port.close();
      return;
    }
    if (msg.type !== "run") return;
    try {
      const results = await model.run(msg.batch, msg.reads);
      // Copy out of ORT's buffer into ones we own (a reduced read owns its arrays already),
      // then hand them over without another copy.
      const transfer: ArrayBuffer[] = [];
      const outputs = results.map((r): OutputTensor => {
        const data = r.sparse ? r.data : r.data.slice();
        transfer.push(data.buffer as ArrayBuffer);
        if (r.sparse) {
          transfer.push(
            r.sparse.offsets.buffer as ArrayBuffer,
            r.sparse.indices.buffer as ArrayBuffer,
          );
        }
        return { data, dims: [...r.dims], ...(r.sparse ? { sparse: r.sparse } : {}) };
      });
      port.postMessage({ type: "result", id: msg.id, outputs } satisfies WorkerReply, transfer);
    } catch (err) {
      const e = err as Error;
      port.postMessage({
        type: "error",
        id: msg.id,
        message: e.message,
        name: e.name,
      } satisfies WorkerReply);
    }
  });
} catch (err) {
  const e = err as Error;
  port.postMessage({
    type: "error",
    id: null,
    message: e.message,
    name: e.name,
  } satisfies WorkerReply);
}
