import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { keptRange, lexicalScore, lexicalWeights } from "../../src/core/index.js";
import { LLM } from "../../src/index.js";
import { fixture } from "../helpers/fixtures.js";

const BGE_M3 = { hfOverrides: { architectures: ["BgeM3EmbeddingModel"] } };

describe("bge-m3 heads", () => {
  const tmp = mkdtempSync(join(tmpdir(), "edgepool-heads-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("lexical weights drop special tokens and zeros and keep the largest weight of a repeat", () => {
    const special = (id: number) => id === 0 || id === 2;
    expect(lexicalWeights([0, 7, 5, 7, 9, 2], [9, 0.2, 0.5, 0.4, 0, 9], special)).toEqual([
      { tokenId: 5, weight: 0.5 },
      { tokenId: 7, weight: 0.4 },
    ]);
    const a = [
      { tokenId: 5, weight: 0.5 },
      { tokenId: 7, weight: 2 },
    ];
    expect(lexicalScore(a, [{ tokenId: 7, weight: 3 }])).toBe(6);
    expect(keptRange([0, 4, 2], 0, 2)).toEqual([1, 2]);
    expect(keptRange([4, 2], 0, null)).toEqual([0, 2]);
  });

  it("the override without converted heads names the conversion script", async () => {
    const dir = join(tmp, "no-heads");
    cpSync(fixture("bge-m3"), dir, { recursive: true });
    rmSync(join(dir, "sparse_linear.safetensors"));
    writeFileSync(join(dir, "sparse_linear.pt"), "not read");
    await expect(LLM.load({ model: dir, ...BGE_M3 })).rejects.toThrow(
      /sparse_linear\.pt is a PyTorch pickle.*bge-m3-heads-to-safetensors\.py/,
    );
  });

  it("reports its tasks with the override, and plain XLM-R tasks without", async () => {
    const m3 = await LLM.load({ model: fixture("bge-m3"), ...BGE_M3 });
    const plain = await LLM.load({ model: fixture("bge-m3") });
    try {
      expect(m3.supportedTasks).toEqual(["embed", "token_embed", "score", "token_classify"]);
      expect(plain.supportedTasks).toEqual(["embed", "token_embed", "score"]);
      await expect(plain.embedSparse("a cat")).rejects.toThrow(/Unsupported task: 'embed_sparse'/);
      const [r] = await m3.embedSparse("the cat sat on the mat");
      expect(r!.outputs.weights.map((w) => w.token)).toContain("▁cat");
    } finally {
      await Promise.all([m3.close(), plain.close()]);
    }
  });
});
