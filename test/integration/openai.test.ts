import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LLM } from "../../src/index.js";
import { fixture, maxAbsDiff } from "../helpers/fixtures.js";
import { postJson, type RunningServer, startServer } from "../helpers/server.js";

const TEXTS = [
  "hello world",
  "the quick brown fox jumps over the lazy dog",
  "what is deep learning?",
];

describe("OpenAI embeddings with the official client", () => {
  let server: RunningServer;
  let client: OpenAI;
  let llm: LLM;

  beforeAll(async () => {
    server = await startServer(["--model", fixture("xlmr-embed"), "--served-model-name", "xlmr"]);
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused" });
    llm = await LLM.load({ model: fixture("xlmr-embed") });
  });
  afterAll(async () => {
    await llm.close();
    expect(await server.stop()).toBe(0);
  });

  it("embeddings.create with the client's default (base64) equals the offline API (1e-6)", async () => {
    const res = await client.embeddings.create({ model: "xlmr", input: TEXTS });
    const offline = await llm.embed(TEXTS);
    expect(res.data).toHaveLength(3);
    res.data.forEach((d, i) => {
      expect(d.index).toBe(i);
      expect(maxAbsDiff(d.embedding, offline[i]!.outputs.embedding)).toBeLessThan(1e-6);
    });
    const tokens = offline.reduce((n, r) => n + r.promptTokenIds.length, 0);
    expect(res.usage).toMatchObject({ prompt_tokens: tokens, total_tokens: tokens });
    expect(res.model).toBe("xlmr");
  });

  it("encoding_format float equals base64, and dimensions truncates then renormalizes", async () => {
    const float = await client.embeddings.create({
      model: "xlmr",
      input: TEXTS,
      encoding_format: "float",
    });
    const b64 = await client.embeddings.create({ model: "xlmr", input: TEXTS });
    expect(
      maxAbsDiff(
        float.data.map((d) => d.embedding),
        b64.data.map((d) => d.embedding),
      ),
    ).toBe(0);
    const small = await client.embeddings.create({
      model: "xlmr",
      input: TEXTS,
      dimensions: 8,
      encoding_format: "float",
    });
    const raw = await postJson(`${server.url}/v1/embeddings`, {
      input: TEXTS,
      use_activation: false,
    });
    small.data.forEach((d, i) => {
      const head = (raw.body.data[i].embedding as number[]).slice(0, 8);
      const norm = Math.hypot(...head);
      expect(
        maxAbsDiff(
          d.embedding,
          head.map((x) => x / norm),
        ),
      ).toBeLessThan(1e-6);
    });
  });

  it("token-id inputs equal text inputs", async () => {
    const [r] = await llm.embed(TEXTS[0]!);
    const byIds = await client.embeddings.create({
      model: "xlmr",
      input: [r!.promptTokenIds],
      encoding_format: "float",
    });
    expect(maxAbsDiff(byIds.data[0]!.embedding, r!.outputs.embedding)).toBeLessThan(1e-6);
  });

  it("echoes X-Request-Id into the response id and header", async () => {
    const res = await postJson(
      `${server.url}/v1/embeddings`,
      { input: "a cat" },
      { "x-request-id": "abc-123" },
    );
    expect(res.body.id).toBe("embd-abc-123");
    expect(res.headers.get("x-request-id")).toBe("abc-123");
    const timings = ["x-total-time", "x-tokenization-time", "x-queue-time", "x-inference-time"];
    for (const h of [...timings, "x-compute-tokens"]) expect(res.headers.has(h), h).toBe(true);
    for (const h of timings) expect(res.headers.get(h), h).toMatch(/^\d+\.\d{3}$/);
    // Work happened: it was timed (a queue may be empty: 0 is a fair wait).
    for (const h of ["x-total-time", "x-tokenization-time", "x-inference-time"]) {
      expect(Number(res.headers.get(h)), h).toBeGreaterThan(0);
    }
    expect(Number(res.headers.get("x-compute-tokens"))).toBe(res.body.usage.prompt_tokens);
  });

  it("the client surfaces our errors as its typed errors", async () => {
    await expect(client.embeddings.create({ model: "nope", input: "a" })).rejects.toMatchObject({
      status: 404,
    });
    await expect(client.embeddings.create({ model: "xlmr", input: "" })).rejects.toMatchObject({
      status: 400,
    });
  });
});
