import {
  BadRequestError,
  ownValue,
  type Pooler,
  type PoolingParams,
  type PoolingTask,
} from "../core/index.js";
import { type ChatMessage, type ChatOptions, renderChat } from "./chat.js";
import {
  contextLengthError,
  embedLengthError,
  type Prompt,
  type PromptOptions,
  truncationLimit,
} from "./prompts.js";
import { tokenizeWithin } from "./request-tokens.js";
import type { ScoreTemplate } from "./score-template.js";
import type { TextTokenizer } from "./tokenizer.js";
import type { ScoreOptions, TextPair, TokenizedPrompt } from "./types.js";

/** What turns a request's prompts into tokens, and the limits it checks them against. */
export interface PrepareParts {
  modelName: string;
  tokenizer: TextTokenizer;
  pooler: Pooler;
  maxModelLen: number;
  vocabSize: number;
  /** TEI's `--auto-truncate`: cut a prompt over the limit when the request sets no truncation. */
  autoTruncate: boolean;
  maxInputChars: number;
  /**
   * Most prompt tokens one request may run (summed over its inputs after tokenization; a
   * cross-encoder pair counts its joined tokens); more is refused (413) before any compute.
   */
  maxRequestTokens: number;
  /** sentence-transformers prompts by name (`query`, `document`, …) and the default one. */
  prompts: Readonly<Record<string, string>>;
  defaultPromptName: string | null;
  /** How pairs are rendered for an LLM reranker; null for cross-encoders and embedding models. */
  scoreTemplate: ScoreTemplate | null;
}

type TooLong = (max: number, tokens: number) => BadRequestError;

/**
 * Prompts to tokens, with every check that can refuse a request before compute: sentence-
 * transformers prompts, chat rendering, the three tokenizations (a prompt, a pair, a pair through
 * an LLM reranker's template), lengths (characters, then tokens, with vLLM's messages) and the
 * vocabulary of token-id prompts.
 */
export class Preparer {
  constructor(private readonly p: PrepareParts) {}

  get maxRequestTokens(): number {
    return this.p.maxRequestTokens;
  }

  /**
   * The sentence-transformers prompt (instruction prefix) named `name`, or the model's
   * `default_prompt_name` when unset; "" when neither. An unknown name is a 400.
   */
  promptText(name?: string | null): string {
    const chosen = name ?? this.p.defaultPromptName;
    if (!chosen) return "";
    const text = ownValue(this.p.prompts, chosen);
    if (text === undefined) {
      const known = Object.keys(this.p.prompts);
      throw new BadRequestError(
        `Unknown prompt_name '${chosen}'; this model has ${known.length ? known.join(", ") : "no prompts"}`,
        "prompt_name",
      );
    }
    return text;
  }

  /** Text prompts with the named (or default) sentence-transformers prompt in front; token ids as they are. */
  withPrompt(prompts: readonly Prompt[], name?: string | null): Prompt[] {
    const prefix = this.promptText(name);
    return prompts.map((p) => (typeof p === "string" && prefix ? prefix + p : p));
  }

  /** Render chat messages with the model's chat template into one text prompt. */
  renderChat(messages: readonly ChatMessage[], opts: ChatOptions = {}): string {
    const { tokenizer } = this.p;
    return renderChat(tokenizer.chatTemplate, messages, {
      ...opts,
      specialTokens: tokenizer.specialTokens,
    });
  }

  /** Check the task and its parameters, then tokenize every prompt (pairs together). */
  prepare(
    task: PoolingTask,
    prompts: readonly (Prompt | TextPair)[],
    params: PoolingParams & PromptOptions = {},
  ): TokenizedPrompt[] {
    this.p.pooler.validate(task, params);
    const { maxLen, tooLong } = this.promptLimit(task);
    return tokenizeWithin(prompts, this.p.maxRequestTokens, (p) =>
      Array.isArray(p)
        ? this.tokenizePair(p[0], p[1], params)
        : this.tokenize(p as Prompt, params, maxLen, tooLong),
    );
  }

  /** Tokenize one prompt, truncating or refusing it by the model's length, with vLLM's messages. */
  tokenize(
    prompt: Prompt,
    opts: PromptOptions = {},
    maxLen = this.p.maxModelLen,
    tooLong: TooLong = contextLengthError,
  ): TokenizedPrompt {
    const requested =
      opts.truncatePromptTokens ?? (this.p.autoTruncate && Number.isFinite(maxLen) ? -1 : null);
    const limit = truncationLimit(requested, maxLen);
    const side = opts.truncationSide ?? "right";
    let ids: number[];
    let typeIds: number[] | null = null;
    if (typeof prompt === "string") {
      this.checkInputLength(prompt);
      const enc = this.p.tokenizer.encode(prompt, {
        addSpecialTokens: opts.addSpecialTokens ?? true,
        ...(limit !== undefined ? { maxTokens: limit, side } : {}),
      });
      ids = enc.ids;
      typeIds = enc.typeIds;
    } else {
      ids = this.checkTokenIds(prompt.promptTokenIds);
      if (limit !== undefined && ids.length > limit) {
        ids = side === "left" ? ids.slice(ids.length - limit) : ids.slice(0, limit);
      }
    }
    if (ids.length === 0) throw new BadRequestError("The prompt is empty", "input");
    if (ids.length > maxLen) throw tooLong(maxLen, ids.length);
    return { ids, typeIds };
  }

  /**
   * Longest prompt a task takes, and the error past it: with chunked processing, embeddings take
   * `max_embed_len` tokens (any length when unset); everything else `max_model_len`.
   */
  promptLimit(task: PoolingTask): { maxLen: number; tooLong: TooLong } {
    const cfg = this.p.pooler.spec.poolerConfig;
    if (task !== "embed" || !cfg.enableChunkedProcessing)
      return { maxLen: this.p.maxModelLen, tooLong: contextLengthError };
    return { maxLen: cfg.maxEmbedLen ?? Number.POSITIVE_INFINITY, tooLong: embedLengthError };
  }

  /** Refuse a text too long to tokenize within the request's bounded work (before tokenizing it). */
  checkInputLength(text: string): void {
    const max = this.p.maxInputChars;
    if (text.length > max) {
      throw new BadRequestError(
        `An input has ${text.length} characters; the limit is ${max} (--max-input-chars)`,
        "input",
      );
    }
  }

  /** Refuse token ids outside the vocabulary (a 400, not a crash in the graph). */
  checkTokenIds(ids: readonly number[]): number[] {
    const size = this.p.vocabSize;
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= size) {
        throw new BadRequestError(
          `Token id ${String(id)} is out of vocabulary (0 to ${size - 1})`,
          "input",
        );
      }
    }
    return [...ids];
  }

  /** Tokenize a sentence pair for a cross-encoder. */
  tokenizePair(first: string, second: string, opts: PromptOptions = {}): TokenizedPrompt {
    const max = this.p.maxModelLen;
    const limit = truncationLimit(opts.truncatePromptTokens, max);
    this.checkInputLength(first);
    this.checkInputLength(second);
    const enc = this.p.tokenizer.encodePair(first, second, {
      ...(limit !== undefined ? { maxTokens: limit, side: opts.truncationSide ?? "right" } : {}),
    });
    if (enc.ids.length > max) throw contextLengthError(max, enc.ids.length);
    return { ids: enc.ids, typeIds: enc.typeIds };
  }

  /**
   * A pair rendered with the score template (LLM rerankers). Over a truncation limit, the
   * document is cut (from `truncationSide`), never the template around it.
   */
  tokenizeTemplated(query: string, document: string, opts: ScoreOptions = {}): TokenizedPrompt {
    const { tokenizer, maxModelLen } = this.p;
    const template = this.p.scoreTemplate!;
    const instruction = opts.instruction ?? null;
    const render = (doc: string) =>
      tokenizer.encode(template(query, doc, instruction), { addSpecialTokens: false }).ids;
    const limit = truncationLimit(opts.truncatePromptTokens, maxModelLen);
    let ids = render(document);
    if (limit !== undefined && ids.length > limit) {
      const doc = tokenizer.encode(document, { addSpecialTokens: false }).ids;
      let keep = doc.length - (ids.length - limit);
      // Re-tokenizing a cut text can merge differently at the edge: cut until it fits.
      while (keep > 0 && ids.length > limit) {
        const kept =
          opts.truncationSide === "left" ? doc.slice(doc.length - keep) : doc.slice(0, keep);
        ids = render(tokenizer.decode(kept));
        keep--;
      }
    }
    if (ids.length > maxModelLen) throw contextLengthError(maxModelLen, ids.length);
    return { ids, typeIds: null };
  }
}
