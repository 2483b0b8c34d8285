import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { speedUp } from "../../src/engine/tokenizer-speed.js";
import { fixture } from "../helpers/fixtures.js";

const SHARED_BERT = join(import.meta.dirname, "..", "..", "..", "shared", "data", "tokenizers");

function pair(dir: string, capacity?: number): { stock: Tokenizer; fast: Tokenizer } {
  const read = (f: string) => JSON.parse(readFileSync(join(dir, f), "utf8"));
  const make = () => new Tokenizer(read("tokenizer.json"), read("tokenizer_config.json"));
  const fast = make();
  speedUp(fast, capacity);
  return { stock: make(), fast };
}

/** Text where the shortcuts' edges lie: ASCII and its controls, accents, CJK, odd spaces. */
const text = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 30 }),
  fc
    .array(
      fc.constantFrom(
        "the",
        "Quick",
        "unaffable",
        "naïve",
        "CAFÉ",
        "東京",
        "\t",
        "\n",
        "\u000b",
        "\u007f",
        "\u00a0",
        "\u200b",
        "\u0000",
        "\ufffd",
        " ",
        "!?",
        "x".repeat(120),
        "e\u0301",
      ),
      { maxLength: 12 },
    )
    .map((parts) => parts.join("")),
);

const cases = [
  ["bert-embed-mean fixture", fixture("bert-embed-mean")],
  ["xlmr-embed fixture (no shortcut applies)", fixture("xlmr-embed")],
  ["real bert-base-uncased", join(SHARED_BERT, "bert-base-uncased")],
] as const;

describe("tokenizer shortcuts", () => {
  for (const [name, dir] of cases) {
    it.skipIf(!existsSync(dir))(`${name}: the same tokens as tokenizers.js without them`, () => {
      const { stock, fast } = pair(dir);
      fc.assert(
        fc.property(text, (t) => {
          expect(fast.tokenize(t)).toEqual(stock.tokenize(t));
          // Twice: the second time from the remembered words.
          expect(fast.encode(t).ids).toEqual(stock.encode(t).ids);
        }),
        { numRuns: 400 },
      );
    });
  }

  it("a full memo adds no more words and still splits new ones", () => {
    const { stock, fast } = pair(fixture("bert-embed-mean"), 2);
    const sentence = "the quick brown fox jumps over the lazy dog";
    expect(fast.tokenize(sentence)).toEqual(stock.tokenize(sentence));
    expect(fast.tokenize(sentence.toUpperCase())).toEqual(stock.tokenize(sentence));
    expect(fast.tokenize("unaffable dogs")).toEqual(stock.tokenize("unaffable dogs"));
  });

  it("lowercases printable ASCII as the normalizer does, and leaves the rest to it", () => {
    const { stock, fast } = pair(fixture("bert-embed-mean"));
    for (const t of ["MiXeD Case ~!@#", "tab\there", "Café au lait", "\u0000nul"]) {
      expect(fast.normalizer?.(t)).toBe(stock.normalizer?.(t));
    }
    expect(fast.normalizer?.("MiXeD")).toBe("mixed");
  });
});
