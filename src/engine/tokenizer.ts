import { Tokenizer } from "@huggingface/tokenizers";
import { isJsonObject, type JsonObject } from "../core/index.js";
import { pairLengths } from "./pair-truncation.js";
import { speedUp } from "./tokenizer-speed.js";

export type TruncationSide = "left" | "right";

export interface EncodeOptions {
  addSpecialTokens?: boolean;
  /** Keep at most this many tokens in total, special tokens included and kept. */
  maxTokens?: number;
  side?: TruncationSide;
}

export interface Encoded {
  ids: number[];
  typeIds: number[] | null;
}

function tokenName(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (isJsonObject(value) && typeof value.content === "string") return value.content;
  return null;
}

function cut(tokens: string[], keep: number, side: TruncationSide): string[] {
  if (tokens.length <= keep) return tokens;
  return side === "left" ? tokens.slice(tokens.length - keep) : tokens.slice(0, keep);
}

/**
 * A Hugging Face `tokenizer.json` tokenizer (tokenizers.js), with truncation done before the
 * special tokens are added so that they survive it, as the Rust tokenizers do.
 */
export class TextTokenizer {
  readonly paddingSide: "left" | "right";
  readonly padTokenId: number | null;
  readonly modelMaxLength: number | null;
  readonly chatTemplate: string | null;
  /** `bos_token`, `eos_token`, … as chat templates expect them. */
  readonly specialTokens: Record<string, string | null>;
  private readonly tok: Tokenizer;
  private readonly unkId: number | undefined;
  private readonly specialIds: Set<number>;
  /** What `specialTokenCount` found for a single sequence [0] and a pair [1]. */
  private readonly specialCounts: Array<number | undefined> = [];

  constructor(tokenizerJson: JsonObject, tokenizerConfig: JsonObject) {
    this.tok = new Tokenizer(tokenizerJson, tokenizerConfig);
    speedUp(this.tok);
    this.paddingSide = tokenizerConfig.padding_side === "left" ? "left" : "right";
    const pad = tokenName(tokenizerConfig.pad_token);
    this.padTokenId = pad === null ? null : (this.tok.token_to_id(pad) ?? null);
    const unk = tokenName(tokenizerConfig.unk_token);
    this.unkId = unk === null ? undefined : this.tok.token_to_id(unk);
    const max = tokenizerConfig.model_max_length;
    this.modelMaxLength = typeof max === "number" && max < 1e9 ? max : null;
    this.chatTemplate =
      typeof tokenizerConfig.chat_template === "string" ? tokenizerConfig.chat_template : null;
    this.specialTokens = {};
    for (const key of [
      "bos_token",
      "eos_token",
      "pad_token",
      "unk_token",
      "cls_token",
      "sep_token",
      "mask_token",
    ]) {
      this.specialTokens[key] = tokenName(tokenizerConfig[key]);
    }
    this.specialIds = new Set(
      [...this.tok.get_added_tokens_decoder().entries()]
        .filter(([, t]) => t.special)
        .map(([id]) => id),
    );
  }

  get vocabSize(): number {
    return this.tok.get_vocab(true).size;
  }

  /** The id of one token (vocabulary or added token), or null when it has none. */
  tokenId(token: string): number | null {
    return this.tok.token_to_id(token) ?? null;
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  /** The id of a special token named in tokenizer_config.json (`mask_token`, …), or null. */
  specialTokenId(key: string): number | null {
    const name = this.specialTokens[key];
    return name ? this.tokenId(name) : null;
  }

  /** The unknown token's id, or null. */
  get unkTokenId(): number | null {
    return this.unkId ?? null;
  }

  private pieces(text: string): string[] {
    return this.tok.tokenize(text, { add_special_tokens: false });
  }

  private toIds(tokens: string[]): number[] {
    return tokens.map((t) => this.tok.token_to_id(t) ?? this.unkId ?? 0);
  }

  private process(a: string[], b: string[] | null, addSpecial: boolean): Encoded {
    const post = this.tok.post_processor;
    if (!post) return { ids: this.toIds(b ? [...a, ...b] : a), typeIds: null };
    const out = post.post_process(a, b, addSpecial);
    return { ids: this.toIds(out.tokens), typeIds: out.token_type_ids ?? null };
  }

  /** Number of special tokens the post-processor adds to a single sequence or a pair. */
  specialTokenCount(pair: boolean): number {
    const known = this.specialCounts[pair ? 1 : 0];
    if (known !== undefined) return known;
    const count = this.process([], pair ? [] : null, true).ids.length;
    this.specialCounts[pair ? 1 : 0] = count;
    return count;
  }

  encode(text: string, opts: EncodeOptions = {}): Encoded {
    const addSpecial = opts.addSpecialTokens ?? true;
    let tokens = this.pieces(text);
    if (opts.maxTokens !== undefined) {
      const room = opts.maxTokens - (addSpecial ? this.specialTokenCount(false) : 0);
      tokens = cut(tokens, Math.max(room, 0), opts.side ?? "right");
    }
    return this.process(tokens, null, addSpecial);
  }

  /** A sentence pair (cross-encoders), truncating the longer side first when over `maxTokens`. */
  encodePair(first: string, second: string, opts: EncodeOptions = {}): Encoded {
    let a = this.pieces(first);
    let b = this.pieces(second);
    if (opts.maxTokens !== undefined) {
      const [keepA, keepB] = pairLengths(
        a.length,
        b.length,
        opts.maxTokens - this.specialTokenCount(true),
      );
      const side = opts.side ?? "right";
      a = cut(a, keepA, side);
      b = cut(b, keepB, side);
    }
    return this.process(a, b, opts.addSpecialTokens ?? true);
  }

  decode(ids: readonly number[], skipSpecialTokens = false): string {
    if (ids.length === 0) return "";
    return this.tok.decode([...ids], { skip_special_tokens: skipSpecialTokens });
  }

  tokenStrings(ids: readonly number[]): string[] {
    return ids.map((id) => this.tok.id_to_token(id) ?? "");
  }
}
