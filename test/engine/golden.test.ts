import { afterAll, describe, expect, it } from "vitest";
import { type EncodeOptions, LLM, type LLMOptions } from "../../src/index.js";
import { fixture, type GoldenCase, goldens, maxAbsDiff } from "../helpers/fixtures.js";

const loaded = new Map<string, Promise<LLM>>();

function load(name: string, extra: Record<string, unknown> = {}): Promise<LLM> {
  const key = `${name}:${JSON.stringify(extra)}`;
  let llm = loaded.get(key);
  if (!llm) {
    llm = LLM.load({ model: fixture(name), ...(extra as Partial<LLMOptions>) });
    loaded.set(key, llm);
  }
  return llm;
}

afterAll(async () => {
  for (const llm of loaded.values()) await (await llm).close();
});

async function runCase(llm: LLM, c: GoldenCase): Promise<unknown[]> {
  const opts = (c.options ?? {}) as unknown as EncodeOptions;
  switch (c.method) {
    case "embed":
      return (await llm.embed(c.prompts ?? c.texts!, opts)).map((r) => r.outputs.embedding);
    case "classify":
      return (await llm.classify(c.prompts!, opts)).map((r) => r.outputs.probs);
    case "reward":
      return (await llm.reward(c.prompts!, opts)).map((r) => r.outputs.data);
    case "encode":
      return (await llm.encode(c.prompts ?? c.texts!, opts)).map((r) => r.outputs.data);
    case "score":
      return (await llm.score(c.text1!, c.text2!, opts)).map((r) => r.outputs.score);
    case "sparse":
      return (await llm.embedSparse(c.prompts ?? c.texts!, opts)).map((r) =>
        r.outputs.weights.map((w) => [w.tokenId, w.weight]),
      );
  }
}

for (const golden of goldens()) {
  describe(`golden ${golden.name}`, () => {
    for (const c of golden.cases) {
      it(`${c.name} matches PyTorch within 1e-4`, async () => {
        const llm = await load(golden.name, c.load);
        const got = await runCase(llm, c);
        expect(got.length).toBe(c.expected.length);
        expect(maxAbsDiff(got, c.expected)).toBeLessThan(1e-4);
      });
    }

    it("tokenizes reference texts to the reference ids", async () => {
      const llm = await load(golden.name, golden.load);
      for (const t of golden.tokenization) {
        // The tokenizer itself: a ColBERT engine prepares a prompt further (markers, expansion).
        expect(llm.engine.tokenizer.encode(t.text).ids, t.text).toEqual(t.ids);
      }
      for (const p of golden.pairs ?? []) {
        const enc = llm.engine.tokenizePair(p.text1, p.text2);
        expect(enc.ids).toEqual(p.ids);
        expect(enc.typeIds).toEqual(p.tokenTypeIds);
      }
    });

    it("reports its maximum model length", async () => {
      expect((await load(golden.name, golden.load)).maxModelLen).toBe(golden.maxModelLen);
    });
  });
}
