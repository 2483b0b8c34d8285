import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture } from "../helpers/fixtures.js";
import { type RunningServer, startServer } from "../helpers/server.js";

// What each JSON route does with a field it does not read (docs/compatibility.md): vLLM accepts
// the request and logs "The following fields were present in the request but ignored: {…}".
const KEY = "unknown-fields-key";
const IGNORED = "The following fields were present in the request but ignored: {'not_a_field'}";
const auth = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };

interface Spec {
  paths: Record<
    string,
    {
      post?: {
        requestBody?: {
          content: Record<string, { examples?: Record<string, { value: unknown }> }>;
        };
      };
    }
  >;
}

interface Outcome {
  server: string;
  path: string;
  plain: number;
  extra: number;
  warning: string | null;
  body: string;
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: "POST", headers: auth, body: JSON.stringify(body) });

describe("fields a route does not read", () => {
  const servers: Record<string, RunningServer> = {};
  const outcomes: Outcome[] = [];
  let store: string;

  beforeAll(async () => {
    store = mkdtempSync(join(tmpdir(), "edgepool-unknown-fields-"));
    const models: Record<string, string[]> = {
      embed: ["bert-embed-mean"],
      classifier: ["bert-classifier"],
      sparse: ["splade"],
      // With a store and a signing secret: the webhook rerank jobs route is mounted too.
      cross: [
        "bert-cross-encoder",
        "--store",
        `sqlite:${join(store, "edgepool.db")}`,
        "--create",
        "--webhook-secret",
        "whsec_dW5rbm93bi1maWVsZHMtdGVzdC1zZWNyZXQ=",
        "--callback-allow-http",
        "--callback-allow-private",
      ],
    };
    await Promise.all(
      Object.entries(models).map(async ([name, [model, ...extra]]) => {
        servers[name] = await startServer(
          ["--model", fixture(model!), "--api-key", KEY, ...extra],
          {
            EDGEPOOL_STORE: "",
            DATABASE_URL: "",
          },
        );
      }),
    );
    for (const [name, server] of Object.entries(servers)) {
      const spec = (await (await fetch(`${server.url}/openapi.json`)).json()) as Spec;
      for (const [path, item] of Object.entries(spec.paths)) {
        const examples = item.post?.requestBody?.content["application/json"]?.examples ?? {};
        const value = Object.values(examples)[0]?.value;
        if (!value || typeof value !== "object" || Array.isArray(value)) continue;
        let example = value as Record<string, unknown>;
        // The documented ids are BERT's; the fixtures' vocabularies are small.
        if (path === "/detokenize") example = { ...example, tokens: [2, 3] };
        const url = `${server.url}${path}`;
        const plain = await post(url, example);
        await plain.arrayBuffer();
        const extra = await post(url, { ...example, not_a_field: 1 });
        outcomes.push({
          server: name,
          path,
          plain: plain.status,
          extra: extra.status,
          warning: extra.headers.get("warning"),
          body: await extra.text(),
        });
      }
    }
  });

  afterAll(async () => {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
    rmSync(store, { recursive: true, force: true });
  });

  it("every route's example ran on some server", () => {
    const served = new Set(outcomes.filter((o) => o.plain < 300).map((o) => o.path));
    const all = new Set(outcomes.map((o) => o.path));
    expect(all.size).toBeGreaterThan(15);
    expect([...all].filter((p) => !served.has(p))).toEqual([]);
  });

  it("are accepted and named in a Warning header and the log, in vLLM's words", () => {
    const answered = outcomes.filter((o) => o.plain < 300 && o.path !== "/v1/rerank/jobs");
    expect(answered.length).toBeGreaterThan(15);
    for (const o of answered) {
      expect({ ...o, body: undefined }).toMatchObject({ extra: o.plain });
      expect(o.warning, `${o.server} ${o.path}`).not.toBeNull();
      expect(o.warning, `${o.server} ${o.path}`).toContain(JSON.stringify(IGNORED));
    }
    for (const server of Object.values(servers)) {
      const logged = server.logs.flatMap((line) => {
        try {
          return [JSON.parse(line) as { msg?: string; path?: string }];
        } catch {
          return [];
        }
      });
      expect(logged.filter((l) => l.msg === IGNORED).length).toBeGreaterThan(0);
      expect(server.logs.join("\n")).not.toContain("deprecated request parameters");
    }
  });

  it("are refused on webhook rerank jobs (a stored request is checked whole)", () => {
    const jobs = outcomes.find((o) => o.path === "/v1/rerank/jobs");
    expect(jobs).toBeDefined();
    expect(jobs!.plain).toBe(202);
    expect(jobs!.extra).toBe(400);
    expect(jobs!.body).toContain("not_a_field");
  });
});
