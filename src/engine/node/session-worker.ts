import { parentPort } from "node:worker_threads";
import type { ModelConfig } from "../../core/index.js";
import type { OutputGather, PaddedBatch } from "../batch.js";
import { loadOnnxModel, type OnnxModel, type SessionOptions } from "./session.js";

/** Messages between the pool and a session worker. */
export type WorkerRequest =
  | { type: "init"; init: WorkerInit }
  | { type: "run"; id: number; batch: PaddedBatch; output: string; gather?: OutputGather }
  | { type: "close" };
export type WorkerReply =
  | {
      type: "ready";
      outputs: OnnxModel["outputs"];
      device: OnnxModel["device"];
      fallback: string | null;
    }
  | { type: "result"; id: number; data: Float32Array; dims: number[] }
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
      const { data, dims } = await model.run(msg.batch, msg.output, msg.gather);
      // Copy out of ORT's buffer into one we own, then hand it over without another copy.
      const owned = data.slice();
      port.postMessage(
        { type: "result", id: msg.id, data: owned, dims: [...dims] } satisfies WorkerReply,
        [owned.buffer],
      );
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
