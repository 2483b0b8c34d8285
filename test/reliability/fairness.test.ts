import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture } from "../helpers/fixtures.js";
import { postJson, type RunningServer, startServer } from "../helpers/server.js";

const MODEL = fixture("bert-embed-mean");
const words = (n: number, seed: number) =>
  Array.from({ length: n }, (_, i) => ["the", "cat", "sat", "on", "a", "mat"][(i + seed) % 6]).join(
    " ",
  );

/** A gauge or counter of `/metrics`. */
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  expect(line, name).toBeDefined();
  return Number(line!.split(" ")[1]);
}

describe("one large request does not hold the server", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer([
      "--model",
      MODEL,
      // Allow the large request; one of its sequences per micro-batch.
      "--max-request-tokens",
      "1000000",
      "--max-batch-tokens-per-request",
      "64",
    ]);
  });
  afterAll(async () => {
    await server.stop();
  });

  it("answers small requests sent while a 2,048-input request runs before it finishes", async () => {
    const url = `${server.url}/v1/embeddings`;
    const large = { input: Array.from({ length: 2048 }, (_, i) => words(50, i)) };
    const order: string[] = [];
    const before = await metric(server.url, "edgepool_batches_total");
    const largeDone = postJson(url, large).then((r) => {
      order.push("large");
      return r;
    });
    // Wait (bounded by polls, not time) until the large request is running: its batches have
    // started and most of its sequences still wait.
    for (let i = 0; i < 5000; i++) {
      if (
        (await metric(server.url, "edgepool_batches_total")) > before &&
        (await metric(server.url, "te_batch_next_size")) > 1000
      )
        break;
    }
    expect(await metric(server.url, "te_batch_next_size")).toBeGreaterThan(1000);
    // Four clients, two small requests each, one after the other.
    const clients = Array.from({ length: 4 }, async (_, c) => {
      for (let k = 0; k < 2; k++) {
        const r = await postJson(url, { input: `small request ${c}.${k}` });
        expect(r.status).toBe(200);
        order.push(`small ${c}.${k}`);
      }
    });
    await Promise.all(clients);
    const answer = await largeDone;
    expect(answer.status).toBe(200);
    expect(answer.body.data).toHaveLength(2048);
    expect(order).toHaveLength(9);
    expect(order.at(-1)).toBe("large");
  });
});

describe("--max-request-tokens over HTTP", () => {
  let server: RunningServer;
  const texts = ["the cat sat on the mat", "a cat", "the mat"];
  let counts: number[];
  let limit: number;
  beforeAll(async () => {
    server = await startServer(["--model", MODEL, "--max-request-tokens", "13"]);
    counts = await Promise.all(
      texts.map(
        async (t) => (await postJson(`${server.url}/tokenize`, { prompt: t })).body.count as number,
      ),
    );
    limit = 13;
  });
  afterAll(async () => {
    await server.stop();
  });

  it("answers a request of exactly the limit", async () => {
    // The fixture's tokenizer: 8 + 4 + 4 tokens with [CLS] and [SEP]; two of them fit 13.
    expect(counts[0]! + counts[1]!).toBeLessThanOrEqual(limit);
    const res = await postJson(`${server.url}/v1/embeddings`, { input: [texts[0], texts[1]] });
    expect(res.status).toBe(200);
    expect(res.body.usage.prompt_tokens).toBe(counts[0]! + counts[1]!);
  });

  it("refuses more with a 413 in the documented shape, naming the flag, before any compute", async () => {
    const batches = await metric(server.url, "edgepool_batches_total");
    const res = await postJson(`${server.url}/v1/embeddings`, { input: texts });
    expect(res.status).toBe(413);
    const total = counts.reduce((a, b) => a + b, 0);
    expect(res.body).toEqual({
      error: {
        message: expect.stringContaining(`has ${total} prompt tokens, over the limit of ${limit}`),
        type: "BadRequestError",
        param: null,
        code: 413,
      },
    });
    expect(res.body.error.message).toContain("--max-request-tokens");
    expect(await metric(server.url, "edgepool_batches_total")).toBe(batches);
  });

  it("refuses on TEI routes in TEI's error shape", async () => {
    const res = await postJson(`${server.url}/embed`, { inputs: texts });
    expect(res.status).toBe(413);
    expect(res.body.error_type).toBe("Validation");
    expect(res.body.error).toContain("--max-request-tokens");
  });
});
