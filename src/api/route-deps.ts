import { NotFoundError, type PoolingTask } from "../core/index.js";
import type { Engine } from "../engine/engine.js";
import type { RequestScope } from "./context.js";
import { hostFor, type ModelHost } from "./host.js";
import type { Limits } from "./prompts.js";

/** What every route family needs. */
export interface RouteDeps {
  /** The first (default) model's host. */
  host: ModelHost;
  /** Every served model's host, `host` first; requests pick one by their `model`. */
  hosts: readonly ModelHost[];
  limits: Limits;
}

/** The engine for a request: a 404 for an unknown `model`, a 503 while not ready. */
export function engineFor(deps: RouteDeps, model: string | null | undefined): Engine {
  const host = hostFor(deps.hosts, model);
  if (!host) {
    deps.host.require();
    throw new NotFoundError(`The model \`${model}\` does not exist.`, "model");
  }
  return host.require();
}

/** A 404 naming the model and the task it lacks, for routes the model cannot serve. */
export function notServed(engine: Engine, what: string): NotFoundError {
  return new NotFoundError(
    `Model "${engine.modelName}" does not support the '${what}' task; it serves: ${engine.tasks.join(", ")}`,
  );
}

export function requireTask(engine: Engine, task: PoolingTask, what: string = task): void {
  if (!engine.pooler.supports(task)) throw notServed(engine, what);
}

export function servedName(deps: RouteDeps, model: string | null | undefined): string {
  return model ?? deps.host.servedNames[0]!;
}

export function requestId(c: RequestScope): string {
  return c.get("requestId");
}

/** OpenAI's `usage`, counted from the results' prompt tokens. */
export function usage(results: readonly { promptTokenIds: number[] }[]) {
  const n = results.reduce((s, r) => s + r.promptTokenIds.length, 0);
  return { prompt_tokens: n, total_tokens: n, completion_tokens: 0, prompt_tokens_details: null };
}

export function created(): number {
  return Math.floor(Date.now() / 1000);
}

/** The list envelope of vLLM's responses, with usage counted from the results' prompt tokens. */
export function listBody<T>(
  c: RequestScope,
  deps: RouteDeps,
  model: string | null | undefined,
  prefix: string,
  data: T[],
  results: readonly { promptTokenIds: number[] }[],
) {
  return {
    id: `${prefix}-${requestId(c)}`,
    object: "list" as const,
    created: created(),
    model: servedName(deps, model),
    data,
    usage: usage(results),
  };
}
