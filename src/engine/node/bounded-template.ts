import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import { BadRequestError } from "../../core/index.js";

import {
  DEFAULT_TEMPLATE_LIMITS,
  setBoundedRenderer,
  type TemplateLimits,
} from "../template-limits.js";

export { DEFAULT_TEMPLATE_LIMITS, type TemplateLimits } from "../template-limits.js";

// Resolved on first use: a bundle without request templates never needs the package on disk.
let jinja: string | undefined;
const jinjaUrl = () => {
  jinja ??= import.meta.resolve("@huggingface/jinja");
  return jinja;
};

// Runs in a throwaway worker: render, post the outcome, wake the waiting thread.
const WORKER = `
const { workerData } = require("node:worker_threads");
const { source, context, port, signal, jinja } = workerData;
import(jinja).then(({ Template }) => {
  let out;
  try {
    out = { text: new Template(source).render(context) };
  } catch (err) {
    out = { error: String((err && err.message) || err) };
  }
  port.postMessage(out);
}, (err) => port.postMessage({ error: String(err) })).finally(() => {
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
});
`;

/**
 * Render a Jinja template that came with a request in a separate worker with a heap limit,
 * waiting at most `timeoutMs`: a looping or memory-hungry template ends as a 400, and the
 * worker is terminated.
 */
export function renderBounded(
  source: string,
  context: Record<string, unknown>,
  limits: TemplateLimits = DEFAULT_TEMPLATE_LIMITS,
): string {
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { source, context, port: port2, signal, jinja: jinjaUrl() },
    transferList: [port2],
    resourceLimits: { maxOldGenerationSizeMb: limits.heapMb, maxYoungGenerationSizeMb: 8 },
    stdout: true,
    stderr: true,
  });
  // Out of memory ends only the worker; its error event must not reach the process.
  worker.on("error", () => undefined);
  worker.unref();
  Atomics.wait(signal, 0, 0, limits.timeoutMs);
  const received = receiveMessageOnPort(port1)?.message as
    | { text?: string; error?: string }
    | undefined;
  port1.close();
  void worker.terminate();
  if (received?.text !== undefined) return received.text;
  if (received?.error !== undefined) {
    throw new BadRequestError(
      `The chat template failed to render: ${received.error}`,
      "chat_template",
    );
  }
  throw new BadRequestError(
    `The chat template did not render within ${limits.timeoutMs} ms and ${limits.heapMb} MB`,
    "chat_template",
  );
}

setBoundedRenderer(renderBounded);
