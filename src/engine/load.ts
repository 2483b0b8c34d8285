import { applyHfOverrides } from "../core/index.js";
import { resolveModel } from "../models/index.js";
import { type Backend, InThreadBackend } from "./backend.js";
import { Engine, type EngineOptions } from "./engine.js";
import { readModelFolder } from "./model-folder.js";
import type { SessionOptions } from "./session.js";
import { TextTokenizer } from "./tokenizer.js";
import { WorkerPoolBackend } from "./worker-pool.js";

/** Resolve the model (folder, bucket or Hub), read it, and start its sessions with onnxruntime-node. */
export async function loadEngine(opts: EngineOptions): Promise<Engine> {
  const resolved = await resolveModel(opts.model, {
    ...opts.store,
    ...(opts.dtype ? { dtype: opts.dtype } : {}),
  });
  const folder = await readModelFolder(resolved.dir, opts.onnxFile ?? resolved.onnxFile);
  const config = applyHfOverrides(folder.config, opts.hfOverrides ?? {});
  const sessionOpts: SessionOptions = { ...opts.session, device: opts.device ?? "cpu" };
  const workers = opts.workers ?? 0;
  // The session starts loading (in workers, in parallel) before the tokenizer is built here.
  const starting: Promise<Backend> =
    workers > 0
      ? WorkerPoolBackend.create(folder.onnxPath, config, sessionOpts, workers)
      : // Loaded on demand: a server whose sessions live in workers never loads ONNX Runtime here.
        import("./session.js").then(
          async ({ loadOnnxModel }) =>
            new InThreadBackend(await loadOnnxModel(folder.onnxPath, config, sessionOpts)),
        );
  opts.onSessionLoading?.();
  let tokenizer: TextTokenizer;
  try {
    tokenizer = new TextTokenizer(folder.tokenizerJson, folder.tokenizerConfig);
  } catch (err) {
    await (await starting.catch(() => null))?.close();
    throw err;
  }
  const backend = await starting;
  try {
    return await Engine.assemble(opts, folder, config, tokenizer, backend);
  } catch (err) {
    await backend.close();
    throw err;
  }
}

Engine.load = loadEngine;
