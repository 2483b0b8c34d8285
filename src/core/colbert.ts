import { BadRequestError, ModelConfigError } from "./errors.js";
import { isJsonObject, type JsonObject, type ModelConfig } from "./model-config.js";

/** Stanford ColBERT checkpoints' architecture (`colbert-ir/colbertv2.0`, answerai-colbert). */
export const STANFORD_COLBERT_ARCHITECTURE = "HF_ColBERT";

/** Python's `string.punctuation`: PyLate's default skiplist for documents. */
export const PUNCTUATION = [..."!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"];

/** How a ColBERT checkpoint encodes queries and documents, as PyLate reads it. */
export interface ColbertSettings {
  /** Marker token put after the first token of a query (`[Q] `, `[unused0]`); "" for none. */
  queryPrefix: string;
  documentPrefix: string;
  /** Queries are cut to, and (with expansion) padded with [MASK] to, this many tokens. */
  queryLength: number;
  /** Documents are cut to this many tokens. */
  documentLength: number;
  doQueryExpansion: boolean;
  /** Whether the other tokens attend to the [MASK] expansion tokens (ColBERT: no). */
  attendToExpansionTokens: boolean;
  /** Tokens left out of a document's vectors (punctuation by default). */
  skiplistWords: string[];
}

const PYLATE_KEYS = [
  "query_prefix",
  "document_prefix",
  "query_length",
  "document_length",
  "do_query_expansion",
  "attend_to_expansion_tokens",
  "skiplist_words",
];

function isStanford(config: ModelConfig): boolean {
  return (config.architectures ?? [])[0] === STANFORD_COLBERT_ARCHITECTURE;
}

function positive(value: unknown, key: string, where: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 2) {
    throw new ModelConfigError(`${where}: ${key} must be an integer of at least 2`);
  }
  return value;
}

function flag(value: unknown, key: string, where: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw new ModelConfigError(`${where}: ${key} must be a boolean`);
  return value;
}

function text(value: unknown, key: string, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new ModelConfigError(`${where}: ${key} must be a string`);
  return value;
}

/**
 * A ColBERT checkpoint's settings, or null when the folder is not one: PyLate's keys in
 * `config_sentence_transformers.json` (or `similarity_fn_name` MaxSim), or a Stanford
 * `HF_ColBERT` checkpoint with its `artifact.metadata`. As PyLate: the sentence-transformers
 * config first, then Stanford's metadata, then PyLate's defaults (`[Q] `/`[D] ` markers,
 * `[unused0]`/`[unused1]` for Stanford checkpoints, 32 and 180 tokens, expansion on, punctuation
 * skipped).
 */
export function colbertSettings(
  config: ModelConfig,
  stConfig: unknown,
  metadata: unknown,
): ColbertSettings | null {
  const st: JsonObject = isJsonObject(stConfig) ? stConfig : {};
  const meta: JsonObject = isJsonObject(metadata) ? metadata : {};
  const stanford = isStanford(config);
  const pylate = PYLATE_KEYS.some((k) => st[k] !== undefined) || st.similarity_fn_name === "MaxSim";
  if (!stanford && !pylate) return null;
  const a = "config_sentence_transformers.json";
  const b = "artifact.metadata";
  const skiplist = st.skiplist_words;
  if (
    skiplist !== undefined &&
    skiplist !== null &&
    (!Array.isArray(skiplist) || skiplist.some((w) => typeof w !== "string"))
  ) {
    throw new ModelConfigError(`${a}: skiplist_words must be a list of strings`);
  }
  return {
    queryPrefix:
      text(st.query_prefix, "query_prefix", a) ??
      text(meta.query_token_id, "query_token_id", b) ??
      (stanford ? "[unused0]" : "[Q] "),
    documentPrefix:
      text(st.document_prefix, "document_prefix", a) ??
      text(meta.doc_token_id, "doc_token_id", b) ??
      (stanford ? "[unused1]" : "[D] "),
    queryLength:
      positive(st.query_length, "query_length", a) ??
      positive(meta.query_maxlen, "query_maxlen", b) ??
      32,
    documentLength:
      positive(st.document_length, "document_length", a) ??
      positive(meta.doc_maxlen, "doc_maxlen", b) ??
      180,
    doQueryExpansion: flag(st.do_query_expansion, "do_query_expansion", a) ?? true,
    attendToExpansionTokens:
      flag(st.attend_to_expansion_tokens, "attend_to_expansion_tokens", a) ??
      flag(meta.attend_to_mask_tokens, "attend_to_mask_tokens", b) ??
      false,
    skiplistWords: (skiplist as string[] | undefined | null) ?? PUNCTUATION,
  };
}

/** ColBERT settings with their tokens resolved to ids. */
export interface ColbertSpec {
  queryPrefixId: number | null;
  documentPrefixId: number | null;
  queryLength: number;
  documentLength: number;
  doQueryExpansion: boolean;
  attendToExpansionTokens: boolean;
  /** What queries are padded with: [MASK] (or EOS, or the pad token, as PyLate picks it). */
  expansionTokenId: number;
  skiplist: ReadonlySet<number>;
}

export interface ColbertTokens {
  /** The id of a token, or null. */
  tokenId(token: string): number | null;
  mask: number | null;
  eos: number | null;
  pad: number | null;
  unk: number | null;
}

/**
 * Resolve the markers, the expansion token and the skiplist against the tokenizer. As PyLate's
 * `convert_tokens_to_ids`, a skiplist word the vocabulary lacks stands for the unknown token.
 */
export function resolveColbert(settings: ColbertSettings, tok: ColbertTokens): ColbertSpec {
  const marker = (prefix: string, key: string) => {
    if (prefix === "") return null;
    const id = tok.tokenId(prefix);
    if (id === null) {
      throw new ModelConfigError(
        `The ColBERT ${key} '${prefix}' is not a token of this tokenizer (PyLate adds it to the vocabulary when it saves a model)`,
      );
    }
    return id;
  };
  const expansion = tok.mask ?? tok.eos ?? tok.pad;
  if (expansion === null) {
    throw new ModelConfigError(
      "A ColBERT query is padded with [MASK] (or EOS, or the pad token): this tokenizer has none",
    );
  }
  const skiplist = new Set<number>();
  for (const w of settings.skiplistWords) {
    const id = tok.tokenId(w) ?? tok.unk;
    if (id !== null) skiplist.add(id);
  }
  return {
    queryPrefixId: marker(settings.queryPrefix, "query_prefix"),
    documentPrefixId: marker(settings.documentPrefix, "document_prefix"),
    queryLength: settings.queryLength,
    documentLength: settings.documentLength,
    doQueryExpansion: settings.doQueryExpansion,
    attendToExpansionTokens: settings.attendToExpansionTokens,
    expansionTokenId: expansion,
    skiplist,
  };
}

/** Which side of late interaction a text is encoded for. */
export type ColbertRole = "query" | "document";

function prefixOf(spec: ColbertSpec, role: ColbertRole): number | null {
  return role === "query" ? spec.queryPrefixId : spec.documentPrefixId;
}

/** How many tokens the tokenizer may give for a role: its length, less the marker. */
export function colbertTokenBudget(spec: ColbertSpec, role: ColbertRole): number {
  const length = role === "query" ? spec.queryLength : spec.documentLength;
  return prefixOf(spec, role) === null ? length : length - 1;
}

/** The 400 for a text longer than its role takes, saying how to have it cut. */
export function colbertLengthError(role: ColbertRole, budget: number, tokens: number) {
  const key = role === "query" ? "query_length" : "document_length";
  return new BadRequestError(
    `This ColBERT model encodes a ${role} in at most ${budget} tokens (its ${key}, less the marker); this one has ${tokens}. Set truncate_prompt_tokens (-1 cuts it to ${budget}, as PyLate does)`,
    "input",
  );
}

/** One sequence as the encoder runs it, and which of its output rows are its vectors. */
export interface ColbertInput {
  ids: number[];
  /** The first `attended` tokens are attended to; the [MASK] expansion after them is not. */
  attended: number;
  /** Output rows that are vectors, or null for all of them. */
  keep: number[] | null;
}

/**
 * PyLate's preprocessing of the tokenizer's ids (special tokens included, already within the
 * role's budget): a query is padded with the expansion token to its budget, then the marker goes
 * after the first token; a document gets its marker, and its skiplist tokens are not vectors.
 */
export function colbertInput(
  ids: readonly number[],
  role: ColbertRole,
  spec: ColbertSpec,
): ColbertInput {
  const budget = colbertTokenBudget(spec, role);
  let seq = [...ids];
  let attended = seq.length;
  if (role === "query" && spec.doQueryExpansion) {
    while (seq.length < budget) seq.push(spec.expansionTokenId);
    if (spec.attendToExpansionTokens) attended = seq.length;
  }
  const prefix = prefixOf(spec, role);
  if (prefix !== null) {
    seq = [...seq.slice(0, 1), prefix, ...seq.slice(1)];
    attended++;
  }
  const keep =
    role === "document" ? seq.flatMap((id, i) => (spec.skiplist.has(id) ? [] : [i])) : null;
  return { ids: seq, attended, keep };
}
