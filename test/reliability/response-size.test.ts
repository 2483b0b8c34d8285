import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture } from "../helpers/fixtures.js";
import { postJson, type RunningServer, startServer } from "../helpers/server.js";

describe("the size of an answer is bounded before running, large answers stream", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer([
      "--model",
      fixture("bert-embed-mean"),
      "--max-response-bytes",
      "20000000",
      // This suite is about the answer's size: let the requests' token counts through.
      "--max-request-tokens",
      "1000000",
    ]);
  });
  afterAll(async () => {
    await server.stop();
  });

  const long = "a cat sat on the mat and then it slept for a while ".repeat(6);

  it("refuses /embed_all whose answer would exceed the limit with a 413, before any compute", async () => {
    const res = await postJson(`${server.url}/embed_all`, {
      inputs: Array.from({ length: 2048 }, () => long),
      truncate: true,
    });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error_type: "Validation" });
    expect(res.body.error).toMatch(/response would be about \d+ bytes, over the limit of 20000000/);
    expect(res.headers.get("x-inference-time")).toBe("0.000");
  });

  it("refuses token outputs on /pooling and large embeddings alike", async () => {
    const res = await postJson(`${server.url}/pooling`, {
      input: Array.from({ length: 2048 }, () => long),
      task: "token_embed",
      truncate_prompt_tokens: -1,
    });
    expect(res.status).toBe(413);
  });

  it("streams an answer over 1 MB (no Content-Length), the same values as small requests", async () => {
    const inputs = Array.from({ length: 200 }, (_, i) => `${long} ${i}`);
    const res = await fetch(`${server.url}/embed_all`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ inputs, truncate: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBeNull();
    const all = (await res.json()) as number[][][];
    expect(all).toHaveLength(200);
    const one = await postJson(`${server.url}/embed_all`, { inputs: inputs[7], truncate: true });
    expect(one.headers.get("content-length")).not.toBeNull();
    expect(all[7]).toEqual(one.body[0]);
  });
});
