import type { PoolingParams, PoolingTask } from "../core/index.js";
import type {
  Engine,
  PooledResult,
  Prompt,
  PromptOptions,
  ScoreResult,
  TokenizedPrompt,
} from "../engine/index.js";
import type { Ctx } from "./route.js";

function timed<T>(c: Ctx, key: "tokenization" | "inference", fn: () => T): T {
  const start = performance.now();
  try {
    return fn();
  } finally {
    c.get("timing")[key] += performance.now() - start;
  }
}

async function timedAsync<T>(c: Ctx, key: "inference", fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await fn();
  } finally {
    c.get("timing")[key] += performance.now() - start;
  }
}

function countTokens(
  c: Ctx,
  tokenized: readonly { promptTokenIds: number[] }[] | readonly TokenizedPrompt[],
): void {
  let n = 0;
  for (const t of tokenized) n += "ids" in t ? t.ids.length : t.promptTokenIds.length;
  c.get("timing").inputTokens += n;
}

/** Tokenize (timed), then run a pooling task (timed), recording the request's token count. */
export async function runPool(
  c: Ctx,
  engine: Engine,
  task: PoolingTask,
  prompts: readonly Prompt[],
  options: PromptOptions & PoolingParams,
): Promise<PooledResult[]> {
  const tokenized = timed(c, "tokenization", () => engine.prepare(task, prompts, options));
  countTokens(c, tokenized);
  return runTokenized(c, engine, task, tokenized, options);
}

export async function runTokenized(
  c: Ctx,
  engine: Engine,
  task: PoolingTask,
  tokenized: readonly TokenizedPrompt[],
  params: PoolingParams,
): Promise<PooledResult[]> {
  return timedAsync(c, "inference", () => engine.poolTokenized(task, tokenized, params));
}

export function tokenizeTimed<T>(c: Ctx, fn: () => T): T {
  return timed(c, "tokenization", fn);
}

export async function runScore(
  c: Ctx,
  engine: Engine,
  left: readonly string[],
  right: readonly string[],
  options: PromptOptions & Pick<PoolingParams, "useActivation">,
): Promise<ScoreResult[]> {
  const results = await timedAsync(c, "inference", () => engine.score(left, right, options));
  countTokens(c, results);
  return results;
}

export function usage(results: readonly { promptTokenIds: number[] }[]) {
  const n = results.reduce((s, r) => s + r.promptTokenIds.length, 0);
  return { prompt_tokens: n, total_tokens: n, completion_tokens: 0, prompt_tokens_details: null };
}
