import {
  chunkRanges,
  type EmbeddedChunk,
  mergeChunks,
  type Pooler,
  type PoolingParams,
  type PoolingTask,
  type SequenceOutput,
} from "../core/index.js";
import { contextLengthError } from "./prompts.js";
import type { LexicalResult, PooledResult, TokenizedPrompt } from "./types.js";

/**
 * A run once its inputs are tokenized and checked: the sequences to forward, how many numbers
 * its answer holds (the response-size check), and how the forward outputs become its results.
 */
export interface Plan<T> {
  inputs: readonly TokenizedPrompt[];
  values: number;
  /** The scheduler read the forward takes (a graph output other than the default one). */
  read?: string | undefined;
  /**
   * Takes each sequence's forward output as it arrives (pooling it then, so only the pooled
   * result is kept); `finish` then receives no outputs.
   */
  consume?: ((output: SequenceOutput, index: number) => void) | undefined;
  finish(outputs: readonly SequenceOutput[]): T;
}

/** A forward output with the rows its prompt keeps as token vectors (ColBERT documents). */
export function withKeep(output: SequenceOutput, prompt: TokenizedPrompt): SequenceOutput {
  return prompt.keep ? { ...output, keep: prompt.keep } : output;
}

/**
 * The same plan without a forward: inference-free SPLADE queries, whose outputs are their
 * tokens' static weights (the pooler's `staticOutput`).
 */
export function withoutForward<T>(
  plan: Plan<T>,
  pooler: Pooler,
  tokenized: readonly TokenizedPrompt[],
): Plan<T> {
  return {
    inputs: [],
    values: plan.values,
    finish: () =>
      finishWith(
        plan,
        tokenized.map((t) => pooler.staticOutput(t.ids)),
      ),
  };
}

/** A plan's results from outputs it did not receive one by one (through `consume`). */
export function finishWith<T>(plan: Plan<T>, outputs: readonly SequenceOutput[]): T {
  const { consume } = plan;
  if (!consume) return plan.finish(outputs);
  for (const [i, o] of outputs.entries()) consume(o, i);
  return plan.finish([]);
}

const tokenCount = (tokenized: readonly TokenizedPrompt[]) =>
  tokenized.reduce((n, t) => n + t.ids.length, 0);

/** How many numbers a task answers for these prompts (per prompt, or per token for token tasks). */
export function outputValues(
  pooler: Pooler,
  task: PoolingTask,
  tokenized: readonly TokenizedPrompt[],
  params: PoolingParams,
): number {
  const { outputSize, poolerConfig } = pooler.spec;
  if (pooler.spec.splade) return tokenized.length * outputSize;
  switch (task) {
    case "embed":
      return tokenized.length * (params.dimensions ?? pooler.embeddingSize);
    case "token_embed":
      return tokenCount(tokenized) * (params.dimensions ?? outputSize);
    case "token_classify":
      return tokenCount(tokenized) * (poolerConfig.returnedTokenIds?.length ?? outputSize);
    default:
      return tokenized.length * outputSize;
  }
}

/**
 * Pool a task over tokenized prompts. Prompts over `max_model_len` (embeddings with chunked
 * processing) run as chunks of `max_model_len`, all in the same forward; each prompt's chunks are
 * then combined by the pooler. Results keep the input order.
 */
export function poolPlan(
  pooler: Pooler,
  maxModelLen: number,
  task: PoolingTask,
  tokenized: readonly TokenizedPrompt[],
  params: PoolingParams,
): Plan<PooledResult[]> {
  const values = outputValues(pooler, task, tokenized, params);
  if (!tokenized.some((t) => t.ids.length > maxModelLen)) {
    const pooled: PooledResult[] = new Array(tokenized.length);
    return {
      inputs: tokenized,
      values,
      read: pooler.readOf(task),
      consume: (o, i) => {
        pooled[i] = {
          promptTokenIds: tokenized[i]!.ids,
          output: pooler.run(task, withKeep(o, tokenized[i]!), params),
        };
      },
      finish: () => pooled,
    };
  }
  if (task !== "embed") {
    throw contextLengthError(maxModelLen, Math.max(...tokenized.map((t) => t.ids.length)));
  }
  const chunks: TokenizedPrompt[] = [];
  const owners = tokenized.map((t) =>
    chunkRanges(t.ids.length, maxModelLen).map(([a, b]) => {
      chunks.push({ ids: t.ids.slice(a, b), typeIds: t.typeIds?.slice(a, b) ?? null });
      return chunks.length - 1;
    }),
  );
  const embedded: EmbeddedChunk[] = new Array(chunks.length);
  return {
    inputs: chunks,
    values,
    consume: (o, k) => {
      embedded[k] = pooler.embedChunk(o, params);
    },
    finish: () =>
      tokenized.map((t, i) => ({
        promptTokenIds: t.ids,
        output: mergeChunks(owners[i]!.map((k) => embedded[k]!)),
      })),
  };
}

/**
 * Sparse (lexical) weights: `{tokenId, weight}` per distinct non-special token (at most two
 * numbers per token), or a SPLADE vector's entries (at most two per vocabulary entry).
 */
export function lexicalPlan(
  pooler: Pooler,
  isSpecial: (id: number) => boolean,
  tokenized: readonly TokenizedPrompt[],
): Plan<LexicalResult[]> {
  return {
    inputs: tokenized,
    values:
      2 * (pooler.spec.splade ? tokenized.length * pooler.spec.outputSize : tokenCount(tokenized)),
    read: pooler.readOf("lexical"),
    finish: (outputs) =>
      outputs.map((o, i) => ({
        promptTokenIds: tokenized[i]!.ids,
        weights: pooler.lexical(o, isSpecial),
      })),
  };
}
