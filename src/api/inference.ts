import type { PoolingParams, PoolingTask } from "../core/index.js";
import type {
  Engine,
  LexicalResult,
  PooledResult,
  Prompt,
  PromptOptions,
  RunContext,
  ScoreOptions,
  ScoreResult,
  TokenizedPrompt,
} from "../engine/index.js";
import type { Ctx } from "./context.js";
import { checkOutputSize } from "./output-size.js";

function timed<T>(c: Ctx, key: "tokenization", fn: () => T): T {
  const start = performance.now();
  try {
    return fn();
  } finally {
    c.get("timing")[key] += performance.now() - start;
  }
}

/** Run engine work with the request's cancellation signal; record its queue and inference time. */
async function scheduled<T>(c: Ctx, fn: (ctx: RunContext) => Promise<T>): Promise<T> {
  const timings = { queueMs: 0, inferenceMs: 0 };
  try {
    return await fn({ signal: c.req.raw.signal, timings });
  } finally {
    const t = c.get("timing");
    t.queue += timings.queueMs;
    t.inference += timings.inferenceMs;
  }
}

function countTokens(
  c: Ctx,
  tokenized: readonly { promptTokenIds: number[] }[] | readonly TokenizedPrompt[],
): void {
  let n = 0;
  for (const t of tokenized) n += "ids" in t ? t.ids.length : t.promptTokenIds.length;
  const timing = c.get("timing");
  timing.inputTokens += n;
  timing.inputs += tokenized.length;
}

/** Tokenize (timed), then run a pooling task (timed), recording the request's token count. */
export async function runPool(
  c: Ctx,
  engine: Engine,
  task: PoolingTask,
  prompts: readonly Prompt[],
  options: PromptOptions & PoolingParams,
): Promise<PooledResult[]> {
  engine.scheduler.checkCapacity();
  const tokenized = timed(c, "tokenization", () => engine.prepare(task, prompts, options));
  return runTokenized(c, engine, task, tokenized, options);
}

export async function runTokenized(
  c: Ctx,
  engine: Engine,
  task: PoolingTask,
  tokenized: readonly TokenizedPrompt[],
  params: PoolingParams,
): Promise<PooledResult[]> {
  checkOutputSize(c, engine, task, tokenized, params);
  countTokens(c, tokenized);
  return scheduled(c, (ctx) => engine.poolTokenized(task, tokenized, params, ctx));
}

export function tokenizeTimed<T>(c: Ctx, fn: () => T): T {
  return timed(c, "tokenization", fn);
}

export async function runScore(
  c: Ctx,
  engine: Engine,
  left: readonly string[],
  right: readonly string[],
  options: ScoreOptions,
): Promise<ScoreResult[]> {
  engine.scheduler.checkCapacity();
  const results = await scheduled(c, (ctx) => engine.score(left, right, options, ctx));
  countTokens(c, results);
  return results;
}

/** Sparse (lexical) weights of a model with a sparse head, timed as the other runs. */
export async function runLexical(
  c: Ctx,
  engine: Engine,
  prompts: readonly Prompt[],
  options: PromptOptions,
): Promise<LexicalResult[]> {
  const tokenized = timed(c, "tokenization", () => {
    engine.pooler.validate("token_classify");
    return engine.prepare("token_classify", prompts, options);
  });
  countTokens(c, tokenized);
  return scheduled(c, (ctx) => engine.lexicalTokenized(tokenized, ctx));
}

/** `task: "plugin"`: the IO-processor plugin's request, timed and counted as the other runs. */
export async function runPlugin(c: Ctx, engine: Engine, data: unknown) {
  const out = await scheduled(c, (ctx) => engine.runPlugin(data, ctx));
  countTokens(c, out.results);
  return out;
}

export function usage(results: readonly { promptTokenIds: number[] }[]) {
  const n = results.reduce((s, r) => s + r.promptTokenIds.length, 0);
  return { prompt_tokens: n, total_tokens: n, completion_tokens: 0, prompt_tokens_details: null };
}
