import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestHarness, type TestHarness } from "wrangler";
import { type Engine, loadEngine } from "../../src/engine/index.js";
import { buildWorker, createEdgeKey, pinFolder, uploadPinned } from "../helpers/edge.js";
import { fixture, maxAbsDiff } from "../helpers/fixtures.js";
import { ROOT } from "../helpers/server.js";

const KEY = `ep-local-${crypto.randomUUID()}`;

/**
 * The in-Worker model serves every request of an isolate, not only the first: each inference is
 * driven from the request waiting on it (workerd drops timers of a request that has finished).
 * No origins: a hang cannot be hidden by a fallback.
 */
describe("in-Worker model: many inferences in one isolate", () => {
  let outdir: string;
  let harness: TestHarness;
  let engine: Engine;

  const embed = async (input: string[]) => {
    const res = await harness.fetch("/v1/embeddings", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ model: "edge-mini", input }),
    });
    return { res, text: await res.text() };
  };

  const expectEmbeddings = async (input: string[], text: string) => {
    const body = JSON.parse(text) as { data: Array<{ embedding: number[] }> };
    const { results: expected } = await engine.run({ task: "embed", prompts: input }, {});
    expect(body.data).toHaveLength(input.length);
    for (let i = 0; i < input.length; i++) {
      expect(
        maxAbsDiff(body.data[i]!.embedding, Array.from(expected[i]!.output as Float32Array)),
      ).toBeLessThan(1e-5);
    }
  };

  beforeAll(async () => {
    outdir = await mkdtemp(join(tmpdir(), "edgepool-edge-local-"));
    await buildWorker(outdir);
    const dir = fixture("bert-embed-mean");
    const pinned = await pinFolder(dir, "bert-embed-mean");
    harness = createTestHarness({
      root: ROOT,
      workers: [
        {
          configPath: "./wrangler.jsonc",
          prebuiltWorkerDir: outdir,
          vars: {
            ORIGINS: [],
            LOCAL_MODEL: { model: "edge-mini", prefix: pinned.prefix, routes: ["/v1/embeddings"] },
          },
        },
      ],
    });
    await harness.listen();
    const env = (await harness.getWorker().getEnv()) as unknown as {
      DB: unknown;
      MODELS: Parameters<typeof uploadPinned>[0];
    };
    await createEdgeKey(env.DB, KEY);
    await uploadPinned(env.MODELS, dir, pinned);
    engine = await loadEngine({ model: dir });
  }, 180_000);

  afterAll(async () => {
    await harness?.close();
    await engine?.close();
    if (outdir) await rm(outdir, { recursive: true, force: true });
  });

  it("answers five different inferences one after another, each with the right vectors", async () => {
    for (let i = 0; i < 5; i++) {
      const input = [`sequential request ${i}`, `a second input, number ${i * 7}`];
      const { res, text } = await embed(input);
      expect(res.status, text).toBe(200);
      expect(res.headers.get("x-edgepool-origin")).toBe("worker");
      await expectEmbeddings(input, text);
    }
  });

  it("answers five different inferences sent at once", async () => {
    const inputs = Array.from({ length: 5 }, (_, i) => [`concurrent request ${i} of five`]);
    const answers = await Promise.all(inputs.map((input) => embed(input)));
    for (const [i, { res, text }] of answers.entries()) {
      expect(res.status, text).toBe(200);
      expect(res.headers.get("x-edgepool-origin")).toBe("worker");
      await expectEmbeddings(inputs[i]!, text);
    }
  });
});
