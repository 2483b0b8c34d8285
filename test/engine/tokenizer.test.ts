import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AutoTokenizer, env } from "@huggingface/transformers";
import { describe, expect, it } from "vitest";
import { TextTokenizer } from "../../src/index.js";
import { FIXTURES, fixture } from "../helpers/fixtures.js";

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = `${FIXTURES}/`;

const SHARED_BERT = join(
  import.meta.dirname,
  "..",
  "..",
  "..",
  "shared",
  "data",
  "tokenizers",
  "bert-base-uncased",
);

function load(dir: string): TextTokenizer {
  const read = (f: string) => JSON.parse(readFileSync(join(dir, f), "utf8"));
  return new TextTokenizer(read("tokenizer.json"), read("tokenizer_config.json"));
}

const SAMPLES = [
  "Hello, World!",
  "the quick brown fox jumps over the lazy dog",
  "Ünïcödé accents and   spaces",
  "numbers 12345 and symbols #@!",
  "",
];

describe("tokenizer", () => {
  for (const name of ["bert-embed-mean", "xlmr-embed", "decoder-embed-last"]) {
    it(`${name}: equals transformers.js AutoTokenizer on the same folder`, async () => {
      const dir = fixture(name);
      const ours = load(dir);
      const theirs = await AutoTokenizer.from_pretrained(name, { local_files_only: true });
      for (const text of SAMPLES) {
        const ids = ours.encode(text).ids;
        expect(ids, text).toEqual(theirs.encode(text));
        expect(ours.encode(text, { addSpecialTokens: false }).ids).toEqual(
          theirs.encode(text, { add_special_tokens: false }),
        );
      }
    });
  }

  it.skipIf(!existsSync(SHARED_BERT))(
    "real bert-base-uncased: truncation keeps [CLS] and [SEP]",
    () => {
      const tok = load(SHARED_BERT);
      const text = "The quick brown fox jumps over the lazy dog near the riverbank.";
      const full = tok.encode(text).ids;
      expect(full[0]).toBe(101);
      expect(full.at(-1)).toBe(102);
      const cut = tok.encode(text, { maxTokens: 6 }).ids;
      expect(cut).toEqual([...full.slice(0, 5), 102]);
      expect(tok.decode(cut, true)).toBe("the quick brown fox");
      const pair = tok.encodePair("what is this?", text, { maxTokens: 12 });
      expect(pair.ids).toHaveLength(12);
      expect(pair.ids.filter((i) => i === 102)).toHaveLength(2);
      expect(pair.typeIds?.at(-1)).toBe(1);
    },
  );

  it("decodes and lists token strings", () => {
    const tok = load(fixture("bert-embed-mean"));
    const ids = tok.encode("hello world").ids;
    expect(tok.decode(ids, true)).toBe("hello world");
    expect(tok.tokenStrings(ids)).toEqual(["[CLS]", "hello", "world", "[SEP]"]);
    expect(tok.specialTokenCount(false)).toBe(2);
    expect(tok.specialTokenCount(true)).toBe(3);
  });
});
