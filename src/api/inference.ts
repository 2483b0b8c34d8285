import type { PoolingTask } from "../core/index.js";
import type { Engine } from "../engine/engine.js";
import type { EngineRequest, RunMetadata, RunResultOf } from "../engine/types.js";
import type { RequestScope } from "./context.js";
import { engineFor, notServed, type RouteDeps, requireTask } from "./route-deps.js";

/** What a route asks of the one inference call. */
export interface Inference<R extends EngineRequest> {
  /** The request's `model`; null or absent picks the first model served. */
  model?: string | null | undefined;
  /**
   * What the model must serve (`sparse`: a sparse head), checked before the request is built:
   * else a 404 naming `route` (default: the task).
   */
  needs?: PoolingTask | "sparse";
  route?: string;
  /** The engine request, built once the model is known (prompt names, chat templates). */
  request: (engine: Engine) => R;
}

/** Add a run's metadata to the request's: timing headers, `/metrics` and the ledger read it. */
function record(c: RequestScope, m: RunMetadata): void {
  const t = c.get("timing");
  t.model = m.model;
  t.tokenization += m.tokenizationMs;
  t.queue += m.queueMs;
  t.inference += m.inferenceMs;
  t.inputTokens += m.promptTokens;
  t.inputs += m.inputs;
  c.set("outputBytes", m.outputBytes);
}

/**
 * The one way a route runs inference: the request's model (404 unknown, 503 not ready), the task
 * it needs (404), then `engine.run` with the request's abort signal and response limit. The run's
 * metadata (model, tokens, timings) is recorded on the request's context.
 */
export async function infer<R extends EngineRequest>(
  c: RequestScope,
  deps: RouteDeps,
  spec: Inference<R>,
): Promise<RunResultOf<R> & { engine: Engine }> {
  const engine = engineFor(deps, spec.model);
  const { needs, route } = spec;
  if (needs === "sparse" && !engine.pooler.sparse) throw notServed(engine, route ?? "embed_sparse");
  if (needs && needs !== "sparse") requireTask(engine, needs, route);
  const out = await engine.run(spec.request(engine), {
    signal: c.req.raw.signal,
    maxResponseBytes: c.get("maxResponseBytes"),
  });
  record(c, out.metadata);
  return { ...out, engine };
}
