import {
  BadRequestError,
  type ColbertSpec,
  colbertInput,
  colbertLengthError,
  colbertTokenBudget,
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
  type PromptRole,
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
  /**
   * Models that encode queries and documents differently (ColBERT, inference-free SPLADE): the
   * side a prompt takes when the request names none. Null for every other model.
   */
  defaultRole: PromptRole | null;
  /** ColBERT: markers, query expansion and skiplist as PyLate applies them; null otherwise. */
  colbert: ColbertSpec | null;
  /** Inference-free SPLADE: queries are tokenized without special tokens and run no model. */
  staticQueries: boolean;
  /** Refuse a prompt of only special tokens (families whose answer to one would mean nothing). */
  refuseSpecialOnly: boolean;
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
    // A model with two sides takes their names whether or not it has text prompts for them.
    if (text === undefined && this.p.defaultRole && (chosen === "query" || chosen === "document")) {
      return "";
    }
    if (text === undefined) {
      const known = Object.keys(this.p.prompts);
      throw new BadRequestError(
        `Unknown prompt_name '${chosen}'; this model has ${known.length ? known.join(", ") : "no prompts"}`,
        "prompt_name",
      );
    }
    return text;
  }

  /**
   * The side a prompt name selects on a model with two (`query`, else `document`), the model's
   * default side when unnamed; undefined for every other model.
   */
  roleOf(name?: string | null): PromptRole | undefined {
    if (!this.p.defaultRole) return undefined;
    const chosen = name ?? this.p.defaultPromptName;
    if (!chosen) return this.p.defaultRole;
    return chosen === "query" ? "query" : "document";
  }

  /** The side a prompt is encoded as: the request's, else the model's default. */
  private role(opts: PromptOptions): PromptRole {
    return opts.role ?? this.p.defaultRole ?? "document";
  }

  /** Whether these prompts are inference-free SPLADE queries (no model runs for them). */
  isStaticQuery(opts: PromptOptions): boolean {
    return this.p.staticQueries && this.role(opts) === "query";
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

  /**
   * Tokenize one prompt, truncating or refusing it by the model's length, with vLLM's messages.
   * A ColBERT prompt is prepared for its side (marker, expansion, skiplist) within the side's
   * length; an inference-free SPLADE query is tokenized without special tokens.
   */
  tokenize(
    prompt: Prompt,
    opts: PromptOptions = {},
    maxLen = this.p.maxModelLen,
    tooLong: TooLong = contextLengthError,
  ): TokenizedPrompt {
    const { colbert } = this.p;
    const role = this.role(opts);
    if (colbert) {
      maxLen = Math.min(colbertTokenBudget(colbert, role), maxLen);
      tooLong = (max, tokens) => colbertLengthError(role, max, tokens);
    }
    const requested =
      opts.truncatePromptTokens ?? (this.p.autoTruncate && Number.isFinite(maxLen) ? -1 : null);
    const limit = truncationLimit(requested, maxLen);
    const side = opts.truncationSide ?? "right";
    let ids: number[];
    let typeIds: number[] | null = null;
    if (typeof prompt === "string") {
      this.checkInputLength(prompt);
      const enc = this.p.tokenizer.encode(prompt, {
        addSpecialTokens: this.isStaticQuery(opts) ? false : (opts.addSpecialTokens ?? true),
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
    if (this.p.refuseSpecialOnly) this.checkContent(ids);
    if (!colbert) return { ids, typeIds };
    const input = colbertInput(ids, role, colbert);
    return { ids: input.ids, typeIds: null, attended: input.attended, keep: input.keep };
  }

  /** Refuse a prompt of only special tokens: a sparse or token-level answer to it means nothing. */
  private checkContent(ids: readonly number[]): void {
    const { tokenizer } = this.p;
    if (ids.some((id) => !tokenizer.isSpecial(id))) return;
    const names = tokenizer.tokenStrings([...new Set(ids)]).join(", ");
    throw new BadRequestError(
      `The input has only special tokens (${names}): there is nothing to encode`,
      "input",
    );
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
