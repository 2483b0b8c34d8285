import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPlatformProxy } from "wrangler";
import { pinFolder, type R2Put, uploadPinned } from "../helpers/edge.js";
import { fixture, maxAbsDiff } from "../helpers/fixtures.js";
import { freePort } from "../helpers/s3.js";
import { postJson, type RunningServer, startServer } from "../helpers/server.js";
import { DocShell, docBlock } from "./doc.js";

// docs/deploy.md §6 run as written against `wrangler dev` (workerd, local D1 and R2): the D1
// migrations applied by wrangler, a key inserted by the documented command, the in-Worker model
// answering five different inputs in one isolate, tenants with their own cache entries, and a
// dead origin skipped by its circuit breaker.

const local = (code: string) =>
  code.replaceAll("--remote", '--local --persist-to "$REHEARSAL_STATE"');

interface Embeddings {
  id: string;
  data: Array<{ embedding: number[] }>;
}

describe("rehearsal: the Worker (docs/deploy.md §6)", () => {
  let work: string;
  let shell: DocShell;
  let worker: ReturnType<DocShell["start"]>;
  let url: string;
  let up: RunningServer;
  let dead: { server: Server; url: string; release: () => void };
  let tenantA: string;
  let tenantB: string;

  const call = (path: string, body: unknown, key: string) =>
    fetch(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "edgepool-rehearse-worker-"));
    const state = join(work, "state");
    shell = new DocShell(work, {
      REHEARSAL_STATE: state,
      WRANGLER_SEND_METRICS: "false",
      CI: "true",
    });
    // §6: D1's tables by its own migrations, then the key as the docs insert it (two tenants).
    await shell.run(local(docBlock("migrations")));
    await shell.run(local(docBlock("key")));
    tenantA = await shell.get("EDGE_KEY");
    await shell.run(local(docBlock("key")).replaceAll("'acme'", "'beta'"));
    tenantB = await shell.get("EDGE_KEY");
    // The in-Worker model, pinned into the same local R2 (R2 checks each file's sha256 on put).
    const pinned = await pinFolder(fixture("bert-embed-mean"), "edge-mini");
    const proxy = await getPlatformProxy<{ MODELS: R2Put }>({
      configPath: "wrangler.jsonc",
      persist: { path: join(state, "v3") },
    });
    try {
      await uploadPinned(proxy.env.MODELS, fixture("bert-embed-mean"), pinned);
    } finally {
      await proxy.dispose();
    }
    up = await startServer([
      "--model",
      fixture("bert-embed-mean"),
      "--served-model-name",
      "origin-model",
    ]);
    const held: Array<() => void> = [];
    const server = createServer((_req, res) => held.push(() => res.destroy()));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    dead = {
      server,
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      release: () => {
        for (const h of held.splice(0)) h();
      },
    };
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const vars = {
      ORIGINS: JSON.stringify([
        { region: "dead-1", url: dead.url, continents: [] },
        { region: "up-2", url: up.url, continents: [] },
      ]),
      LOCAL_MODEL: JSON.stringify({
        model: "edge-mini",
        prefix: pinned.prefix,
        routes: ["/v1/embeddings"],
      }),
      ORIGIN_TIMEOUT_MS: "1500",
      CIRCUIT_COOLDOWN_MS: "600000",
    };
    const flags = Object.entries(vars)
      .map(([k, v]) => `--var ${k}:${JSON.stringify(v).replaceAll("$", "\\$")}`)
      .join(" ");
    worker = shell.start(
      `npx wrangler dev --ip 127.0.0.1 --port ${port} --persist-to "$REHEARSAL_STATE" ${flags}`,
      /Ready on/,
    );
    await worker.started;
  }, 240_000);

  afterAll(async () => {
    dead?.release();
    dead?.server.close();
    await worker?.stop();
    await up?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("the documented call answers from the Worker and its usage row is in D1", async () => {
    const { out } = await shell.run(local(docBlock("call-worker")), { WORKER_URL: url });
    expect(out).toMatch(/^x-edgepool-origin: worker\r?$/im);
    expect(out).toMatch(/^x-edgepool-cache: miss\r?$/im);
    const rows = JSON.parse(out.slice(out.indexOf("["))) as Array<{ results: unknown[] }>;
    expect(rows[0]!.results).toContainEqual({
      route: "/v1/embeddings",
      model: null,
      inputs: 1,
      prompt_tokens: expect.any(Number),
      status: 200,
    });
  }, 60_000);

  it("five different inferences in one isolate, each equal to the Node engine's within 1e-5", async () => {
    for (let i = 0; i < 5; i++) {
      const input = [`sentence number ${i} about cats`, `and ${i} dogs`];
      const res = await call("/v1/embeddings", { model: "edge-mini", input }, tenantA);
      expect(res.status, await res.clone().text()).toBe(200);
      expect(res.headers.get("x-edgepool-origin")).toBe("worker");
      expect(res.headers.get("x-edgepool-cache")).toBe("miss");
      const got = (await res.json()) as Embeddings;
      const want = (await postJson(`${up.url}/v1/embeddings`, { model: "origin-model", input }))
        .body as Embeddings;
      for (let j = 0; j < input.length; j++) {
        expect(maxAbsDiff(got.data[j]!.embedding, want.data[j]!.embedding)).toBeLessThan(1e-5);
      }
    }
  }, 120_000);

  it("tenants never share a cache entry; a hit answers under its own id", async () => {
    const body = { model: "edge-mini", input: `tenant cache ${crypto.randomUUID()}` };
    const first = await call("/v1/embeddings", body, tenantA);
    expect(first.headers.get("x-edgepool-cache")).toBe("miss");
    const firstBody = (await first.json()) as Embeddings;
    // The write finishes after the response (waitUntil): poll until tenant A hits, bounded.
    let hit: Response | undefined;
    for (let i = 0; i < 50 && hit?.headers.get("x-edgepool-cache") !== "hit"; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      hit = await call("/v1/embeddings", body, tenantA);
    }
    expect(hit!.headers.get("x-edgepool-cache")).toBe("hit");
    const hitBody = (await hit!.json()) as Embeddings;
    expect(hitBody.id).toBe(`embd-${hit!.headers.get("x-request-id")}`);
    expect(hitBody.id).not.toBe(firstBody.id);
    expect(hitBody.data).toEqual(firstBody.data);
    // Tenant B sends the same body: its own miss, never A's entry.
    const other = await call("/v1/embeddings", body, tenantB);
    expect(other.status).toBe(200);
    expect(other.headers.get("x-edgepool-cache")).toBe("miss");
  }, 60_000);

  it("a dead origin is skipped by its circuit breaker after one timeout", async () => {
    const body = { model: "origin-model", prompt: "circuit" };
    const first = await call("/tokenize", body, tenantA);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-edgepool-origin")).toBe("up-2");
    expect(first.headers.get("x-edgepool-skipped")).toBe("dead-1: no answer within 1500 ms");
    const second = await call("/tokenize", body, tenantA);
    expect(second.headers.get("x-edgepool-origin")).toBe("up-2");
    expect(second.headers.get("x-edgepool-skipped")).toBe("dead-1: circuit open");
  }, 60_000);
});
