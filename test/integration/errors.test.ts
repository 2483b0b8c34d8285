import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, ModelHost } from "../../src/api/index.js";
import { fixture } from "../helpers/fixtures.js";
import { postJson, type RunningServer, startServer } from "../helpers/server.js";

function expectError(
  res: { status: number; body: { error: Record<string, unknown> } },
  status: number,
  type: string,
) {
  expect(res.status).toBe(status);
  expect(res.body.error).toMatchObject({ type, code: status });
  expect(typeof res.body.error.message).toBe("string");
  expect(res.body.error).toHaveProperty("param");
}

describe("errors in the documented shape", () => {
  let server: RunningServer;
  let matryoshka: RunningServer;
  const url = (path: string) => `${server.url}${path}`;

  beforeAll(async () => {
    [server, matryoshka] = await Promise.all([
      startServer([
        "--model",
        fixture("bert-embed-mean"),
        "--served-model-name",
        "m",
        "--max-client-batch-size",
        "4",
        "--payload-limit",
        "2000",
        "--api-key",
        "secret",
      ]),
      startServer(["--model", fixture("st-dense-matryoshka"), "--served-model-name", "st"]),
    ]);
  });
  afterAll(async () => {
    await server.stop();
    await matryoshka.stop();
  });

  const auth = { authorization: "Bearer secret" };
  const post = (path: string, body: unknown) => postJson(url(path), body, auth);

  it("401 without or with a wrong key; health, ping and metrics stay public", async () => {
    expectError(await postJson(url("/v1/embeddings"), { input: "a" }), 401, "AuthenticationError");
    expectError(
      await postJson(url("/v1/embeddings"), { input: "a" }, { authorization: "Bearer nope" }),
      401,
      "AuthenticationError",
    );
    expect((await post("/v1/embeddings", { input: "a" })).status).toBe(200);
    expect(
      (await postJson(url("/v1/embeddings"), { input: "a" }, { "x-api-key": "secret" })).status,
    ).toBe(200);
    for (const p of ["/health", "/ping", "/metrics"])
      expect((await fetch(url(p))).status).toBe(200);
  });

  it("400 for malformed JSON, wrong content type, wrong types and non-object bodies", async () => {
    expectError(await post("/v1/embeddings", "{not json"), 400, "BadRequestError");
    expectError(await post("/v1/embeddings", "[1,2]"), 400, "BadRequestError");
    expectError(await post("/v1/embeddings", { input: 5 }), 400, "BadRequestError");
    expectError(
      await post("/v1/embeddings", { input: "a", dimensions: "8" }),
      400,
      "BadRequestError",
    );
    expectError(
      await post("/v1/embeddings", { input: "a", encoding_format: "hex" }),
      400,
      "BadRequestError",
    );
    expectError(
      await post("/v1/embeddings", { input: "a", truncate_prompt_tokens: -2 }),
      400,
      "BadRequestError",
    );
    const form = await fetch(url("/v1/embeddings"), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...auth },
      body: "input=a",
    });
    expect(form.status).toBe(400);
  });

  it("400 for empty inputs and too many inputs", async () => {
    expectError(await post("/v1/embeddings", { input: "" }), 400, "BadRequestError");
    expectError(await post("/v1/embeddings", { input: [] }), 400, "BadRequestError");
    expectError(await post("/v1/embeddings", { input: ["a", ""] }), 400, "BadRequestError");
    expectError(await post("/v1/embeddings", {}), 400, "BadRequestError");
    const many = await post("/v1/embeddings", { input: ["a", "b", "c", "d", "e"] });
    expectError(many, 400, "BadRequestError");
    expect(many.body.error.message).toBe("batch size 5 > maximum allowed batch size 4");
  });

  it("413 for a body over the payload limit", async () => {
    expectError(await post("/v1/embeddings", { input: "a".repeat(5000) }), 413, "BadRequestError");
  });

  it("404 for an unknown model, an unknown route, or a task the model lacks", async () => {
    expectError(await post("/v1/embeddings", { model: "other", input: "a" }), 404, "NotFoundError");
    expectError(await post("/nope", { input: "a" }), 404, "NotFoundError");
    expectError(await post("/classify", { input: "a" }), 404, "NotFoundError");
  });

  it("quotes vLLM's messages for length, truncation and matryoshka errors", async () => {
    const long = Array.from({ length: 100 }, () => "cat").join(" ");
    const tooLong = await post("/v1/embeddings", { input: long });
    expectError(tooLong, 400, "BadRequestError");
    expect(tooLong.body.error.message).toBe(
      "This model's maximum context length is 64 tokens. However, your request has 102 input tokens. Please reduce the length of the input prompt.",
    );
    const trunc = await post("/v1/embeddings", { input: long, truncate_prompt_tokens: 100 });
    expect(trunc.body.error.message).toBe(
      "truncate_prompt_tokens value is greater than max_model_len. Please request a smaller truncation size.",
    );
    const ok = await post("/v1/embeddings", { input: long, truncate_prompt_tokens: -1 });
    expect(ok.body.usage.prompt_tokens).toBe(64);
    const notM = await post("/v1/embeddings", { input: "a", dimensions: 8 });
    expect(notM.body.error.message).toBe(
      'Model "m" does not support matryoshka representation, changing output dimensions will lead to poor results.',
    );
    const zero = await postJson(`${matryoshka.url}/v1/embeddings`, { input: "a", dimensions: 0 });
    expect(zero.body.error.message).toBe("Dimensions must be greater than 0");
    const other = await postJson(`${matryoshka.url}/v1/embeddings`, { input: "a", dimensions: 5 });
    expect(other.body.error.message).toBe(
      'Model "st" only supports [4, 8, 16] matryoshka dimensions, use other output dimensions will lead to poor results.',
    );
    const fine = await postJson(`${matryoshka.url}/v1/embeddings`, {
      input: "a",
      dimensions: 4,
      encoding_format: "float",
    });
    expect(fine.body.data[0].embedding).toHaveLength(4);
  });

  it("503 while the model is loading or after it failed", async () => {
    const host = new ModelHost(["x"]);
    const { app } = createApp(host);
    const srv = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () =>
        resolve(s as Server),
      );
    });
    const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    try {
      const health = await fetch(`${base}/health`);
      expect(health.status).toBe(503);
      expectError(
        await postJson(`${base}/v1/embeddings`, { input: "a" }),
        503,
        "ServiceUnavailableError",
      );
      host.setFailed("bad weights");
      const failed = await postJson(`${base}/v1/embeddings`, { input: "a" });
      expect(failed.body.error.message).toContain("bad weights");
    } finally {
      srv.close();
    }
  });
});

describe("backpressure", () => {
  it("requests over --max-concurrent-requests get 429 with Retry-After; the rest succeed", async () => {
    const s = await startServer([
      "--model",
      fixture("bert-embed-mean"),
      "--max-concurrent-requests",
      "1",
    ]);
    try {
      const input = Array.from(
        { length: 512 },
        (_, i) => `the quick brown fox jumps over the lazy dog ${i}`,
      );
      const results = await Promise.all(
        Array.from({ length: 8 }, () => postJson(`${s.url}/v1/embeddings`, { input })),
      );
      const rejected = results.filter((r) => r.status === 429);
      expect(rejected.length).toBeGreaterThan(0);
      expect(results.every((r) => r.status === 200 || r.status === 429)).toBe(true);
      expectError(rejected[0]!, 429, "TooManyRequestsError");
      expect(rejected[0]!.headers.get("retry-after")).toBe("1");
    } finally {
      await s.stop();
    }
  });
});

describe("process behaviour", () => {
  it("SIGTERM finishes in-flight requests and exits 0", async () => {
    const s = await startServer(["--model", fixture("bert-embed-mean")]);
    const inflight = postJson(`${s.url}/v1/embeddings`, {
      input: Array.from({ length: 64 }, (_, i) => `text ${i}`),
    });
    await new Promise((r) => setTimeout(r, 5));
    const code = s.stop();
    const res = await inflight;
    expect(res.status).toBe(200);
    expect(await code).toBe(0);
  });

  it("--fallback-model serves a local folder, loudly, when the model cannot be fetched", async () => {
    const { freePort } = await import("../helpers/s3.js");
    const closed = `http://127.0.0.1:${await freePort()}`;
    const s = await startServer(
      [
        "--model",
        "acme/not-cached",
        "--fallback-model",
        fixture("bert-embed-mean"),
        "--served-model-name",
        "demo",
      ],
      {
        HF_ENDPOINT: closed,
        EDGEPOOL_CACHE_DIR: `${process.env.TMPDIR ?? "/tmp"}/edgepool-fallback-test`,
      },
    );
    try {
      expect((await postJson(`${s.url}/v1/embeddings`, { input: "a" })).status).toBe(200);
      const logs = s.logs.join("\n");
      expect(logs).toContain("serving the fallback model instead");
      expect(logs).toContain("RANDOM WEIGHTS");
    } finally {
      await s.stop();
    }
  });

  it("a port already in use stops the process with a clear message", async () => {
    const first = await startServer(["--model", fixture("bert-embed-mean")]);
    try {
      const port = new URL(first.url).port;
      await expect(
        startServer(["--model", fixture("bert-embed-mean"), "--port", port]),
      ).rejects.toThrow(/exited with 1[\s\S]*cannot listen/);
    } finally {
      await first.stop();
    }
  });

  it("a model that cannot load exits non-zero with a clear message", async () => {
    await expect(startServer(["--model", "/nonexistent/model"])).rejects.toThrow(/does not exist/);
  });
});
