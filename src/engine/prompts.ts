import { BadRequestError } from "../core/index.js";
import type { TruncationSide } from "./tokenizer.js";

/** A prompt: text, or token ids taken as they are (special tokens included). */
export type Prompt = string | { promptTokenIds: readonly number[] };

export interface PromptOptions {
  /** Keep this many tokens in total (special tokens kept); -1 means the model's maximum. */
  truncatePromptTokens?: number | null;
  truncationSide?: TruncationSide;
  /** Add the tokenizer's special tokens to text prompts (default true). */
  addSpecialTokens?: boolean;
  /**
   * Which side of retrieval the prompts are, for models that encode the two differently (ColBERT's
   * markers and query expansion; inference-free SPLADE's IDF queries). Default: the model's.
   */
  role?: PromptRole | null;
}

/** The side of retrieval a prompt is: a query or a document. */
export type PromptRole = "query" | "document";

export function asPromptList(prompts: Prompt | readonly Prompt[]): Prompt[] {
  return Array.isArray(prompts) ? [...prompts] : [prompts as Prompt];
}

/** The token budget a `truncatePromptTokens` value means, with vLLM's errors. */
export function truncationLimit(
  value: number | null | undefined,
  maxModelLen: number,
): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Number.isInteger(value) || value < -1 || value === 0) {
    throw new BadRequestError(
      "truncate_prompt_tokens must be -1 (the model's maximum) or a positive integer",
      "truncate_prompt_tokens",
    );
  }
  if (value === -1) return Number.isFinite(maxModelLen) ? maxModelLen : undefined;
  if (value > maxModelLen) {
    throw new BadRequestError(
      "truncate_prompt_tokens value is greater than max_model_len. Please request a smaller truncation size.",
      "truncate_prompt_tokens",
    );
  }
  return value;
}

/** vLLM's embedding-endpoint text for an input over `max_embed_len` (chunked processing on). */
export function embedLengthError(maxEmbedLen: number, tokens: number): BadRequestError {
  return new BadRequestError(
    `This model's maximum embedding input length is ${maxEmbedLen} tokens. However, you requested ${tokens} tokens in the input for embedding generation. Please reduce the length of the input.`,
    "input",
  );
}

export function contextLengthError(maxModelLen: number, tokens: number): BadRequestError {
  return new BadRequestError(
    `This model's maximum context length is ${maxModelLen} tokens. However, your request has ${tokens} input tokens. Please reduce the length of the input prompt.`,
    "input",
  );
}
