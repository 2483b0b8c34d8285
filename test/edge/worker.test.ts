import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestHarness, type TestHarness } from "wrangler";
import { loadEngine } from "../../src/engine/index.js";
import {
  applyMigrations,
  buildWorker,
  createEdgeKey,
  pinFolder,
  uploadPinned,
} from "../helpers/edge.js";
import { fixture, maxAbsDiff } from "../helpers/fixtures.js";
import { ROOT, type RunningServer, startServer } from "../helpers/server.js";

const KEY = `ep-test-${crypto.randomUUID()}`;
const LIMITED_KEY = `ep-limited-${crypto.randomUUID()}`;
const QUOTA_KEY = `ep-quota-${crypto.randomUUID()}`;

interface Env {
  DB: {
    prepare(sql: string): {
      bind(...v: unknown[]): { run(): Promise<unknown>; all<T>(): Promise<{ results: T[] }> };
    };
  };
  MODELS: {
    put(key: string, body: Uint8Array | string, opts?: { sha256?: string }): Promise<unknown>;
  };
}

/** A plain HTTP server on 127.0.0.1 (random port) answering with `handler`. */
async function origin(
  handler: Parameters<typeof createServer>[1],
): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe("edge Worker under workerd", () => {
  let outdir: string;
  let buildLog: string;
  let harness: TestHarness;
  let env: Env;
  let up: RunningServer;
  let down: { server: Server; url: string };
  let hang: { server: Server; url: string };
  let prefix: string;
  const held: Array<() => void> = [];

  const call = (path: string, body: unknown, key: string | null = KEY) =>
    harness.fetch(path, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(key ? { authorization: `Bearer ${key}` } : {}),
      },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  beforeAll(async () => {
    // The production build: wrangler's bundler with the real wrangler.jsonc (no nodejs_compat).
    outdir = await mkdtemp(join(tmpdir(), "edgepool-edge-"));
    buildLog = await buildWorker(outdir);

    up = await startServer([
      "--model",
      fixture("bert-embed-mean"),
      "--served-model-name",
      "origin-model",
      "--workers",
      "1",
    ]);
    down = await origin((_req, res) => {
      res.writeHead(503, { "content-type": "application/json" });
      res.end(
        '{"error":{"message":"region down","type":"ServiceUnavailableError","param":null,"code":503}}',
      );
    });
    hang = await origin((_req, res) => {
      held.push(() => res.destroy());
    });

    const dir = fixture("bert-embed-mean");
    const pinned = await pinFolder(dir, "bert-embed-mean");
    prefix = pinned.prefix;

    harness = createTestHarness({
      root: ROOT,
      workers: [
        {
          configPath: "./wrangler.jsonc",
          prebuiltWorkerDir: outdir,
          vars: {
            ORIGINS: [
              { region: "hang-1", url: hang.url, continents: [] },
              { region: "down-2", url: down.url, continents: [] },
              { region: "up-3", url: up.url, continents: [] },
            ],
            ORIGIN_TIMEOUT_MS: 1500,
            RATE_LIMIT_PER_MINUTE: 1000,
            LOCAL_MODEL: { model: "edge-mini", prefix, routes: ["/v1/embeddings"] },
          },
        },
      ],
    });
    await harness.listen();
    env = (await harness.getWorker().getEnv()) as unknown as Env;
    await applyMigrations(env.DB);
    await createEdgeKey(env.DB, KEY);
    await createEdgeKey(env.DB, LIMITED_KEY, 2);
    await createEdgeKey(env.DB, QUOTA_KEY, null, 2);

    // Pin the fixture into local R2 as `edgepool pin` lays it out; R2 checks each sha256 on put.
    await uploadPinned(env.MODELS, dir, pinned);
  }, 180_000);

  afterAll(async () => {
    for (const release of held) release();
    await harness?.close();
    await up?.stop();
    down?.server.close();
    hang?.server.close();
    if (outdir) await rm(outdir, { recursive: true, force: true });
  });

  it("builds without Node-only modules (no nodejs_compat) and reports its size", async () => {
    const meta = JSON.parse(await readFile(join(outdir, "meta.json"), "utf8")) as {
      inputs: Record<string, unknown>;
      outputs: Record<string, { imports?: Array<{ path: string; external?: boolean }> }>;
    };
    // Built-ins never appear among the inputs: esbuild leaves them as external imports of the
    // outputs, where a `node:` module would fail the Worker at start.
    const externals = Object.values(meta.outputs).flatMap((o) =>
      (o.imports ?? []).filter((i) => i.external).map((i) => i.path),
    );
    // The one external import: onnxruntime-web's wasm, compiled at deploy time.
    expect(externals.some((p) => p.endsWith(".wasm"))).toBe(true);
    expect(externals.filter((p) => !p.endsWith(".wasm"))).toEqual([]);
    const inputs = Object.keys(meta.inputs);
    for (const banned of ["onnxruntime-node", "prom-client", "@aws-sdk", "pino", "src/jobs/"]) {
      expect(inputs.filter((i) => i.includes(banned))).toEqual([]);
    }
    expect(inputs.some((i) => i.includes("onnxruntime-web"))).toBe(true);
    expect(buildLog).toMatch(/Total Upload: [\d.,]+ KiB \/ gzip: [\d.,]+ KiB/);
  });

  it("401 without or with a wrong key; /health is public", async () => {
    expect((await harness.fetch("/health")).status).toBe(200);
    const none = await call("/v1/embeddings", { model: "origin-model", input: "x" }, null);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { type: string } }).error.type).toBe(
      "AuthenticationError",
    );
    expect(
      (await call("/v1/embeddings", { model: "origin-model", input: "x" }, "nope")).status,
    ).toBe(401);
  });

  it("fails over past a hanging and a 5xx origin, names the origin that answered, and meters it", async () => {
    const input = `failover ${crypto.randomUUID()}`;
    const res = await call("/v1/embeddings", { model: "origin-model", input });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-edgepool-origin")).toBe("up-3");
    const body = (await res.json()) as {
      data: Array<{ embedding: number[] }>;
      usage: { prompt_tokens: number };
    };
    const direct = (await (
      await fetch(`${up.url}/v1/embeddings`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "origin-model", input }),
      })
    ).json()) as typeof body;
    expect(body.data[0]!.embedding).toEqual(direct.data[0]!.embedding);
    const rows = await env.DB.prepare(
      "SELECT inputs, prompt_tokens, status, route, model FROM usage_ledger WHERE request_id = ?",
    )
      .bind(res.headers.get("x-request-id"))
      .all<Record<string, unknown>>();
    expect(rows.results).toEqual([
      {
        inputs: 1,
        prompt_tokens: body.usage.prompt_tokens,
        status: 200,
        route: "/v1/embeddings",
        model: "origin-model",
      },
    ]);
  });

  it("answers an identical embedding request from the Cache API (key order does not matter)", async () => {
    const input = [`cache ${crypto.randomUUID()}`, "second"];
    const first = await call("/v1/embeddings", {
      model: "origin-model",
      input,
      encoding_format: "float",
    });
    expect(first.headers.get("x-edgepool-cache")).toBe("miss");
    const firstBody = await first.text();
    let second: Response | undefined;
    // The cache write finishes after the first response (waitUntil): poll briefly, bounded.
    for (let i = 0; i < 20; i++) {
      second = await call(
        "/v1/embeddings",
        `{"encoding_format":"float","input":${JSON.stringify(input)},"model":"origin-model"}`,
      );
      if (second.headers.get("x-edgepool-cache") === "hit") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(second!.headers.get("x-edgepool-cache")).toBe("hit");
    // The same answer, under the second request's own id (a hit never replays the first id).
    const firstId = first.headers.get("x-request-id") ?? "";
    const secondId = second!.headers.get("x-request-id") ?? "";
    expect(firstId).toMatch(/^[0-9a-f]{32}$/);
    expect(secondId).not.toBe(firstId);
    const secondBody = await second!.text();
    expect(JSON.parse(secondBody).id).toBe(`embd-${secondId}`);
    expect(secondBody).toBe(firstBody.replaceAll(firstId, secondId));
    // A cache hit is metered like any answered request (two inputs, the tokens of the first).
    const rows = await env.DB.prepare(
      "SELECT inputs, prompt_tokens FROM usage_ledger WHERE request_id = ?",
    )
      .bind(second!.headers.get("x-request-id"))
      .all<{ inputs: number; prompt_tokens: number }>();
    expect(rows.results).toEqual([
      { inputs: 2, prompt_tokens: Number(first.headers.get("x-compute-tokens")) },
    ]);
  });

  it("enforces the per-key rate limit with 429 and retry-after", async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 3; i++) {
      last = await call("/tokenize", { model: "origin-model", prompt: "hi" }, LIMITED_KEY);
      statuses.push(last.status);
    }
    // A bucket of 2, refilled at 2 per minute: the third is refused, for about 30 s.
    expect(statuses).toEqual([200, 200, 429]);
    const wait = Number(last!.headers.get("retry-after"));
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(31);
    expect(((await last!.json()) as { error: { type: string } }).error.type).toBe(
      "TooManyRequestsError",
    );
  });

  it("enforces the key's request quota on D1 (the metering store's counters)", async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 3; i++) {
      last = await call("/tokenize", { model: "origin-model", prompt: "hi" }, QUOTA_KEY);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    const body = (await last!.json()) as { error: { message: string } };
    expect(body.error.message).toMatch(/Request quota exhausted .*: 2 requests per day/);
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("refuses a tampered weight file and falls back to the origins", async () => {
    await env.MODELS.put(`${prefix}/config.json`, '{"tampered":true}');
    const res = await call("/v1/embeddings", { model: "edge-mini", input: "x" });
    // Not loaded in the Worker: the origin answers (it does not serve edge-mini, hence 404).
    expect(res.headers.get("x-edgepool-origin")).toBe("up-3");
    expect(res.status).toBe(404);
    const dir = fixture("bert-embed-mean");
    await env.MODELS.put(`${prefix}/config.json`, await readFile(join(dir, "config.json"), "utf8"));
  });
  it("serves a pinned model in the Worker (onnxruntime-web), equal to the Node engine within 1e-5", async () => {
    const input = ["the cat sat on the mat", `in the worker ${crypto.randomUUID().slice(0, 8)}`];
    const res = await call("/v1/embeddings", { model: "edge-mini", input });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-edgepool-origin")).toBe("worker");
    expect(Number(res.headers.get("x-edgepool-wasm-heap"))).toBeGreaterThan(0);
    const body = (await res.json()) as { model: string; data: Array<{ embedding: number[] }> };
    expect(body.model).toBe("edge-mini");
    const engine = await loadEngine({ model: fixture("bert-embed-mean") });
    try {
      const { results: expected } = await engine.run({ task: "embed", prompts: input }, {});
      for (let i = 0; i < input.length; i++) {
        expect(
          maxAbsDiff(body.data[i]!.embedding, Array.from(expected[i]!.output as Float32Array)),
        ).toBeLessThan(1e-5);
      }
    } finally {
      await engine.close();
    }
  });
});
