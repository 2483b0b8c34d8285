import { applyHfOverrides, type JsonObject, type ModelConfig } from "../../core/index.js";
import "./bounded-template.js";
import {
  type Dtype,
  defaultCacheDir,
  type ModelSourceOptions,
  resolveModel,
} from "../../models/index.js";
import { type AssembleOptions, assembleEngine, defaultWarning } from "../assemble.js";
import { type Backend, InThreadBackend } from "../backend.js";
import type { Engine } from "../engine.js";
import type { IOProcessor } from "../io-processor.js";
import type { Device } from "../onnx-model.js";
import { TextTokenizer } from "../tokenizer.js";
import { fileGraphCheckMemo } from "./graph-check-memo.js";
import { cpuFacts, int8RangeWarning } from "./int8-cpu.js";
import { mappedWeightsGraph } from "./mapped-weights.js";
import { type ModelFolder, readModelFolder, readModelFolderHead } from "./model-folder.js";
import { loadIOProcessor } from "./plugin-loader.js";
import type { SessionOptions } from "./session.js";
import { defaultIntraOpThreads } from "./threads.js";

/** Options of a model loaded with onnxruntime-node: where it comes from, how its session runs. */
export interface EngineOptions extends AssembleOptions {
  /**
   * A local model folder (Hugging Face / optimum layout), a pinned `s3://` / `r2://` URI, or a
   * Hub id `org/name[@revision]` (downloaded into the cache).
   */
  model: string;
  /** ONNX variant: fp32 (`onnx/model.onnx`), fp16 or q8 (`model_fp16.onnx`, `model_quantized.onnx`). */
  dtype?: Dtype;
  /** Cache folder, bucket endpoint and Hub settings for non-local models. */
  store?: Omit<ModelSourceOptions, "dtype">;
  /** vLLM's `--hf-overrides`: merged into config.json in memory. */
  hfOverrides?: JsonObject;
  device?: Device;
  /** ONNX file inside the folder, e.g. `onnx/model_quantized.onnx`. */
  onnxFile?: string;
  /** Worker threads, each with its own session; 0 runs the session on the calling thread. */
  workers?: number;
  /**
   * With workers (on the CPU): also a session on the calling thread, for a small micro-batch that
   * runs alone (a lone request skips the hand-off to a worker; see `AdaptiveBackend`). It costs
   * that session's memory again: its own prepacked weights (a MiniLM-L6: ~45 MiB; a BERT-base:
   * ~370 MB, for a lone request 2.7 % faster). `auto` (the default): only for a graph of up to
   * `INLINE_SESSION_MAX_MIB` (256 MiB) with its external data.
   */
  inlineSession?: boolean | "auto";
  session?: Omit<SessionOptions, "device">;
  /**
   * Create the session from a copy of the graph whose weights are in a page-aligned external
   * data file in the model cache (written at the first load), which ONNX Runtime maps instead of
   * copying: less memory and a faster session start, for one more copy of the weights on disk.
   * `auto` (the default) is on, except on AWS Lambda (whose instances start with an empty cache)
   * and for a folder verified against its manifest (pinned or downloaded: the copy would be read
   * unverified; pin with `--mapped-weights` instead). `true` maps a verified folder too, with a
   * warning.
   */
  mappedWeights?: boolean | "auto";
  /**
   * An IO-processor plugin for `task: "plugin"`: a built-in name (`nearest-label`), a module
   * path, or the plugin itself. Default: `io_processor_plugin` in `config.json`, else none.
   */
  ioProcessorPlugin?: string | IOProcessor | null;
  /** Called once the ONNX session has started loading and the tokenizer is built (servers load their HTTP stack then). */
  onSessionLoading?: () => void;
}

/**
 * The graph the session loads: the folder's, or its mapped-weights copy in the cache. A verified
 * folder (pinned, or downloaded with a manifest) is loaded from the bytes its manifest covers: a
 * derived copy would be read unverified at later starts (pin with --mapped-weights to have both).
 */
async function sessionGraph(
  opts: EngineOptions,
  onnxPath: string,
  verified: boolean,
  cacheRoot: string,
): Promise<string> {
  const mapped = opts.mappedWeights ?? "auto";
  const warn = opts.onWarning ?? defaultWarning;
  if (mapped === true && verified) {
    warn(
      `--mapped-weights on: ${opts.model} is verified against its manifest at every start, the mapped-weights copy in the cache is not (pin it with --mapped-weights to have both)`,
    );
  }
  const auto = mapped === "auto" && !verified && !process.env.AWS_LAMBDA_FUNCTION_NAME;
  if (mapped !== true && !auto) return onnxPath;
  const mapStart = performance.now();
  const m = await mappedWeightsGraph(onnxPath, cacheRoot, warn);
  if (m.wrote) opts.onPhase?.("mapped_weights", performance.now() - mapStart);
  return m.path;
}

/** A session on this thread (ONNX Runtime is loaded here on demand). */
function inThreadSession(path: string, config: ModelConfig, opts: SessionOptions) {
  return import("./session.js").then(({ loadOnnxModel }) => loadOnnxModel(path, config, opts));
}

/**
 * Start the sessions: in worker threads (with one on this thread for lone small batches), or
 * (0 workers) on this thread.
 */
function startBackend(opts: EngineOptions, path: string, config: ModelConfig): Promise<Backend> {
  const workers = opts.workers ?? 0;
  const sessionOpts: SessionOptions = {
    intraOpNumThreads: defaultIntraOpThreads(workers),
    ...opts.session,
    device: opts.device ?? "cpu",
  };
  const sessionStart = performance.now();
  // Each backend loads on demand: a server with workers loads ONNX Runtime here only for its
  // session for lone batches; a function (its one session on this thread) never loads the pool.
  const mode = opts.inlineSession ?? "auto";
  const inline =
    mode !== false && sessionOpts.device === "cpu"
      ? { warn: opts.onWarning ?? defaultWarning, always: mode === true }
      : null;
  return (
    workers === 0
      ? inThreadSession(path, config, sessionOpts).then((m) => new InThreadBackend(m))
      : import("./adaptive.js").then(({ startWorkers }) =>
          startWorkers(path, config, sessionOpts, workers, inline),
        )
  ).then((b) => {
    opts.onPhase?.("session", performance.now() - sessionStart);
    return b;
  });
}

/** The plugin named by the options, else by config.json's `io_processor_plugin`; null for none. */
async function ioProcessorOf(opts: EngineOptions, config: ModelConfig) {
  const plugin = opts.ioProcessorPlugin ?? config.io_processor_plugin;
  return typeof plugin === "string" || (plugin && typeof plugin === "object")
    ? loadIOProcessor(plugin as string | IOProcessor)
    : null;
}

/** Resolve the model (folder, bucket or Hub), read it, and start its sessions with onnxruntime-node. */
export async function loadEngine(opts: EngineOptions): Promise<Engine> {
  const phase = opts.onPhase;
  // An inline session's module (and ONNX Runtime's) loads while the model is fetched and hashed.
  if ((opts.workers ?? 0) === 0) import("./session.js").catch(() => undefined);
  const resolved = await resolveModel(opts.model, {
    ...opts.store,
    ...(opts.dtype ? { dtype: opts.dtype } : {}),
    ...(phase ? { onPhase: phase } : {}),
  });
  const onnxFile = opts.onnxFile ?? resolved.onnxFile;
  // The session starts from the config and the ONNX file; the tokenizer and the rest are read
  // while it loads.
  const head = await readModelFolderHead(resolved.dir, onnxFile);
  const config = applyHfOverrides(head.config, opts.hfOverrides ?? {});
  const cacheRoot = opts.store?.cacheDir ?? defaultCacheDir();
  const path = await sessionGraph(opts, head.onnxPath, resolved.manifest !== null, cacheRoot);
  // The session starts loading (in workers, in parallel) before the tokenizer is built here.
  const starting = startBackend(opts, path, config);
  const int8Check =
    opts.device !== "cuda"
      ? cpuFacts()
          .then((cpu) => int8RangeWarning(head.onnxPath, cpu))
          .catch(() => null)
      : Promise.resolve(null);
  const memo = fileGraphCheckMemo(head.onnxPath, cacheRoot);
  // Awaited below; a failure while the folder is read is handled there, not reported as unhandled.
  starting.catch(() => undefined);
  let folder: ModelFolder;
  let tokenizer: TextTokenizer;
  try {
    folder = await readModelFolder(resolved.dir, onnxFile, head);
    const tokenizerStart = performance.now();
    tokenizer = new TextTokenizer(folder.tokenizerJson, folder.tokenizerConfig);
    phase?.("tokenizer", performance.now() - tokenizerStart);
    // The caller's own loading (the HTTP stack) waits for this: it would delay the reads above.
    opts.onSessionLoading?.();
  } catch (err) {
    await (await starting.catch(() => null))?.close();
    throw err;
  }
  const backend = await starting;
  const int8Warning = await int8Check;
  if (int8Warning) (opts.onWarning ?? defaultWarning)(int8Warning);
  try {
    return await assembleEngine(opts, folder, config, tokenizer, backend, {
      graphChecks: await memo,
      ioProcessor: await ioProcessorOf(opts, config),
    });
  } catch (err) {
    await backend.close();
    throw err;
  }
}
