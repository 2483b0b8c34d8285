import { describe, expect, it } from "vitest";
import {
  type ColbertTokens,
  colbertInput,
  colbertLengthError,
  colbertSettings,
  colbertTokenBudget,
  PUNCTUATION,
  resolveColbert,
} from "./colbert.js";

const VOCAB: Record<string, number> = {
  "[PAD]": 0,
  "[UNK]": 1,
  "[CLS]": 2,
  "[SEP]": 3,
  "[MASK]": 4,
  ".": 5,
  ",": 6,
  "[unused0]": 7,
  "[unused1]": 8,
};
const tok: ColbertTokens = {
  tokenId: (t) => VOCAB[t] ?? null,
  mask: 4,
  eos: null,
  pad: 0,
  unk: 1,
};
const PYLATE = {
  query_prefix: "[unused0]",
  document_prefix: "[unused1]",
  query_length: 8,
  document_length: 10,
  attend_to_expansion_tokens: false,
  do_query_expansion: true,
};

describe("ColBERT settings", () => {
  it("are read from PyLate's keys, else from Stanford's artifact.metadata, else PyLate's defaults", () => {
    expect(
      colbertSettings({ architectures: ["BertModel"] }, { prompts: {} }, undefined),
    ).toBeNull();
    const pylate = colbertSettings({ architectures: ["BertModel"] }, PYLATE, undefined)!;
    expect(pylate).toMatchObject({ queryPrefix: "[unused0]", queryLength: 8, documentLength: 10 });
    expect(pylate.skiplistWords).toEqual(PUNCTUATION);
    const stanford = colbertSettings({ architectures: ["HF_ColBERT"] }, undefined, {
      query_token_id: "[unused0]",
      doc_token_id: "[unused1]",
      query_maxlen: 16,
      doc_maxlen: 32,
      attend_to_mask_tokens: true,
    })!;
    expect(stanford).toMatchObject({
      queryPrefix: "[unused0]",
      documentPrefix: "[unused1]",
      queryLength: 16,
      documentLength: 32,
      attendToExpansionTokens: true,
    });
    expect(colbertSettings({ architectures: ["HF_ColBERT"] }, undefined, undefined)).toMatchObject({
      queryPrefix: "[unused0]",
      queryLength: 32,
      documentLength: 180,
    });
    expect(colbertSettings({}, { similarity_fn_name: "MaxSim" }, undefined)?.queryPrefix).toBe(
      "[Q] ",
    );
    expect(() => colbertSettings({}, { query_length: "32" }, undefined)).toThrow(/query_length/);
  });

  it("resolve markers to ids; a skiplist word outside the vocabulary stands for [UNK], as in PyLate", () => {
    const spec = resolveColbert(colbertSettings({}, PYLATE, undefined)!, tok);
    expect(spec.queryPrefixId).toBe(7);
    expect(spec.expansionTokenId).toBe(4);
    expect(spec.skiplist.has(5) && spec.skiplist.has(6) && spec.skiplist.has(1)).toBe(true);
    expect(() =>
      resolveColbert(colbertSettings({}, { ...PYLATE, query_prefix: "[Q] " }, undefined)!, tok),
    ).toThrow(/query_prefix '\[Q\] ' is not a token/);
  });
});

describe("ColBERT inputs", () => {
  const spec = resolveColbert(colbertSettings({}, PYLATE, undefined)!, tok);

  it("a query: expanded with [MASK] to query_length, the marker after [CLS], the expansion not attended", () => {
    expect(colbertTokenBudget(spec, "query")).toBe(7);
    expect(colbertInput([2, 20, 21, 3], "query", spec)).toEqual({
      ids: [2, 7, 20, 21, 3, 4, 4, 4],
      attended: 5,
      keep: null,
    });
    const attend = { ...spec, attendToExpansionTokens: true };
    expect(colbertInput([2, 20, 3], "query", attend).attended).toBe(8);
    const plain = { ...spec, doQueryExpansion: false };
    expect(colbertInput([2, 20, 3], "query", plain)).toEqual({
      ids: [2, 7, 20, 3],
      attended: 4,
      keep: null,
    });
  });

  it("a document: the marker after [CLS], skiplist tokens not kept as vectors", () => {
    expect(colbertTokenBudget(spec, "document")).toBe(9);
    expect(colbertInput([2, 20, 5, 21, 6, 3], "document", spec)).toEqual({
      ids: [2, 8, 20, 5, 21, 6, 3],
      attended: 7,
      keep: [0, 1, 2, 4, 6],
    });
  });

  it("no marker when the prefix is empty", () => {
    const bare = resolveColbert(
      colbertSettings({}, { ...PYLATE, document_prefix: "" }, undefined)!,
      tok,
    );
    expect(colbertTokenBudget(bare, "document")).toBe(10);
    expect(colbertInput([2, 20, 3], "document", bare).ids).toEqual([2, 20, 3]);
  });

  it("over the budget: a 400 saying how to have it cut", () => {
    const err = colbertLengthError("document", 9, 12);
    expect(err.status).toBe(400);
    expect(err.message).toMatch(
      /at most 9 tokens \(its document_length.*has 12.*truncate_prompt_tokens/,
    );
  });
});
