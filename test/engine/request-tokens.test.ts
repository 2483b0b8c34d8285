import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Engine, loadEngine } from "../../src/engine/index.js";
import { fixture } from "../helpers/fixtures.js";

/** What a refusal must look like: 413, the documented type, the flag named, before any compute. */
async function expectRefused(engine: Engine, run: () => Promise<unknown>, tokens: RegExp) {
  const before = engine.scheduler.stats.batches;
  const err = await run().then(
    () => null,
    (e: unknown) => e as { status?: number; type?: string; message?: string },
  );
  expect(err).not.toBeNull();
  expect(err!.status).toBe(413);
  expect(err!.type).toBe("BadRequestError");
  expect(err!.message).toMatch(tokens);
  expect(err!.message).toMatch(/--max-request-tokens/);
  expect(engine.scheduler.stats.batches).toBe(before);
}

const embedAll = async (engine: Engine, prompts: string[]) =>
  (await engine.run({ task: "embed", prompts }, {})).results;
const score = async (engine: Engine, queries: string[], documents: string[]) =>
  (await engine.run({ task: "score", queries, documents }, {})).results;

describe("maxRequestTokens (library)", () => {
  let embed: Engine;
  let cross: Engine;
  const texts = ["the cat sat on the mat", "a dog barked", "birds sing at dawn"];
  let counts: number[];

  beforeAll(async () => {
    embed = await loadEngine({ model: fixture("bert-embed-mean"), maxRequestTokens: 1000 });
    counts = [...texts, "x"].map((t) => embed.tokenize(t).ids.length);
    await embed.close();
    const sum = counts[0]! + counts[1]! + counts[2]!;
    // Exactly the three texts' tokens: all three run, one more token is refused.
    embed = await loadEngine({ model: fixture("bert-embed-mean"), maxRequestTokens: sum });
  });
  afterAll(async () => {
    await embed?.close();
    await cross?.close();
  });

  it("runs a request of exactly the limit and refuses one token more with a 413 naming the flag", async () => {
    const sum = counts[0]! + counts[1]! + counts[2]!;
    await expect(embedAll(embed, texts)).resolves.toHaveLength(3);
    await expectRefused(
      embed,
      () => embedAll(embed, [...texts, "x"]),
      new RegExp(`has ${sum + counts[3]!} prompt tokens, over the limit of ${sum} per request`),
    );
    // Refused while tokenizing: the count so far, not the whole request's.
    await expectRefused(
      embed,
      () => embedAll(embed, [...texts, "x", ...texts]),
      new RegExp(`has at least ${sum + counts[3]!} prompt tokens`),
    );
  });

  it("counts what runs when an embedding model scores pairs: each text once", async () => {
    // 1:3 runs the query and three documents, fewer tokens than three joined pairs.
    const query = texts[0]!;
    const docs = [texts[1]!, texts[2]!, texts[1]!];
    const running = counts[0]! + counts[1]! * 2 + counts[2]!;
    const limited = await loadEngine({
      model: fixture("bert-embed-mean"),
      maxRequestTokens: running,
    });
    try {
      await expect(score(limited, [query], docs)).resolves.toHaveLength(3);
      await expectRefused(
        limited,
        () => score(limited, [query], [...docs, "one more"]),
        new RegExp(`over the limit of ${running} per request`),
      );
    } finally {
      await limited.close();
    }
  });

  it("counts a cross-encoder pair's joined tokens", async () => {
    cross = await loadEngine({ model: fixture("bert-cross-encoder") });
    const pairTokens = ["a dog barked", "birds sing at dawn"].map(
      (d) => cross.tokenizePair("what makes noise?", d).ids.length,
    );
    await cross.close();
    const limit = pairTokens[0]! + pairTokens[1]!;
    cross = await loadEngine({ model: fixture("bert-cross-encoder"), maxRequestTokens: limit });
    await expect(
      score(cross, ["what makes noise?"], ["a dog barked", "birds sing at dawn"]),
    ).resolves.toHaveLength(2);
    await expectRefused(
      cross,
      () => score(cross, ["what makes noise?"], ["a dog barked", "birds sing at dawn", "a cat"]),
      new RegExp(`over the limit of ${limit} per request`),
    );
  });
});
