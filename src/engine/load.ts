import { applyHfOverrides } from "../core/index.js";
import "./bounded-template.js";
import { resolveModel } from "../models/index.js";
import { type Backend, InThreadBackend } from "./backend.js";
import { Engine, type EngineOptions } from "./engine.js";
import { type IOProcessor, loadIOProcessor } from "./io-processor.js";
import { readModelFolder } from "./model-folder.js";
import type { SessionOptions } from "./session.js";
import { defaultIntraOpThreads } from "./threads.js";
import { TextTokenizer } from "./tokenizer.js";
import { WorkerPoolBackend } from "./worker-pool.js";

/** Resolve the model (folder, bucket or Hub), read it, and start its sessions with onnxruntime-node. */
export async function loadEngine(opts: EngineOptions): Promise<Engine> {
  const phase = opts.onPhase;
  const resolved = await resolveModel(opts.model, {
    ...opts.store,
    ...(opts.dtype ? { dtype: opts.dtype } : {}),
    ...(phase ? { onPhase: phase } : {}),
  });
  const folder = await readModelFolder(resolved.dir, opts.onnxFile ?? resolved.onnxFile);
  const config = applyHfOverrides(folder.config, opts.hfOverrides ?? {});
  const workers = opts.workers ?? 0;
  const sessionOpts: SessionOptions = {
    intraOpNumThreads: defaultIntraOpThreads(workers),
    ...opts.session,
    device: opts.device ?? "cpu",
  };
  // The session starts loading (in workers, in parallel) before the tokenizer is built here.
  const sessionStart = performance.now();
  const starting: Promise<Backend> = (
    workers > 0
      ? WorkerPoolBackend.create(folder.onnxPath, config, sessionOpts, workers)
      : // Loaded on demand: a server whose sessions live in workers never loads ONNX Runtime here.
        import("./session.js").then(
          async ({ loadOnnxModel }) =>
            new InThreadBackend(await loadOnnxModel(folder.onnxPath, config, sessionOpts)),
        )
  ).then((b) => {
    phase?.("session", performance.now() - sessionStart);
    return b;
  });
  opts.onSessionLoading?.();
  let tokenizer: TextTokenizer;
  try {
    const tokenizerStart = performance.now();
    tokenizer = new TextTokenizer(folder.tokenizerJson, folder.tokenizerConfig);
    phase?.("tokenizer", performance.now() - tokenizerStart);
  } catch (err) {
    await (await starting.catch(() => null))?.close();
    throw err;
  }
  const backend = await starting;
  try {
    const engine = await Engine.assemble(opts, folder, config, tokenizer, backend);
    const plugin = opts.ioProcessorPlugin ?? config.io_processor_plugin;
    if (typeof plugin === "string" || (plugin && typeof plugin === "object")) {
      engine.ioProcessor = await loadIOProcessor(plugin as string | IOProcessor);
    }
    return engine;
  } catch (err) {
    await backend.close();
    throw err;
  }
}

Engine.load = loadEngine;
