import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../../src/store/index.js";
import { runCli as cli, createKey } from "../helpers/cli.js";
import { fixture } from "../helpers/fixtures.js";
import { getJson, postJson, type RunningServer, startServer } from "../helpers/server.js";
import { type TestBackend, testBackends } from "../helpers/stores.js";

const backends = await testBackends();
const TEXTS = ["hello world", "the quick brown fox jumps over the lazy dog", "a cat", "déjà vu"];

describe.each(backends)("metering on $name", (backend: TestBackend) => {
  let server: RunningServer;
  let spec: string;
  let drop: () => Promise<void>;
  const keys: Record<string, { id: string; key: string }> = {};
  const STATIC = "static-key-for-tests";
  const auth = (key: string) => ({ authorization: `Bearer ${key}` });

  beforeAll(async () => {
    if (backend.unavailable) return;
    const created = await backend.create();
    spec = created.spec;
    drop = created.drop;
    for (const name of ["k0", "k1", "k2", "k3"]) {
      keys[name] = await createKey(spec, name, ["--customer", `cus_${name}`]);
    }
    keys.quota = await createKey(spec, "quota", ["--request-quota", "3", "--quota-period", "day"]);
    keys.tokens = await createKey(spec, "tokens", ["--token-quota", "10"]);
    keys.rate = await createKey(spec, "rate", ["--rate-limit", "2"]);
    keys.reader = await createKey(spec, "reader", [
      "--request-quota",
      "2",
      "--quota-period",
      "day",
      "--rate-limit",
      "2",
    ]);
    keys.revoked = await createKey(spec, "revoked");
    keys.rotated = await createKey(spec, "rotated");
    server = await startServer(
      [
        "--model",
        fixture("bert-embed-mean"),
        "--store",
        spec,
        "--api-key",
        STATIC,
        "--key-cache-ms",
        "0",
        "--log-level",
        "trace",
      ],
      { EDGEPOOL_STORE: "", DATABASE_URL: "" },
    );
  });
  afterAll(async () => {
    if (backend.unavailable) return;
    await server?.stop();
    await drop();
  });

  it.skipIf(backend.unavailable)(
    "64 concurrent requests from 4 keys: the ledger totals equal the responses' usage",
    async () => {
      const names = ["k0", "k1", "k2", "k3"];
      const responses = await Promise.all(
        Array.from({ length: 64 }, (_, i) => {
          const name = names[i % 4]!;
          const input = TEXTS.slice(0, 1 + (i % TEXTS.length)).map((t) => `${t} ${i}`);
          return postJson(`${server.url}/v1/embeddings`, { input }, auth(keys[name]!.key)).then(
            (r) => ({ name, inputs: input.length, ...r }),
          );
        }),
      );
      const expected: Record<string, { requests: number; inputs: number; tokens: number }> = {};
      for (const r of responses) {
        expect(r.status).toBe(200);
        expected[r.name] ??= { requests: 0, inputs: 0, tokens: 0 };
        const e = expected[r.name]!;
        e.requests++;
        e.inputs += r.inputs;
        e.tokens += r.body.usage.prompt_tokens;
      }
      for (const name of names) {
        const usage = (
          await getJson(`${server.url}/v1/usage?group_by=route`, auth(keys[name]!.key))
        ).body;
        expect(usage.key_id).toBe(keys[name]!.id);
        const embeddings = usage.data.find((d: { group: string }) => d.group === "/v1/embeddings");
        expect(embeddings).toEqual({
          group: "/v1/embeddings",
          requests: expected[name]!.requests,
          errors: 0,
          inputs: expected[name]!.inputs,
          prompt_tokens: expected[name]!.tokens,
        });
      }
      const byDay = (
        await getJson(`${server.url}/v1/usage?group_by=day&from=2020-01-01`, auth(keys.k0!.key))
      ).body;
      expect(byDay.data[0].group).toBe(new Date().toISOString().slice(0, 10));
    },
  );

  it.skipIf(backend.unavailable)(
    "a request quota trips at its count, with Retry-After",
    async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await postJson(
          `${server.url}/v1/embeddings`,
          { input: "a" },
          auth(keys.quota!.key),
        );
        statuses.push(r.status);
        if (r.status === 429) {
          expect(r.body.error.message).toMatch(
            /Request quota exhausted for API key 'quota': 3 requests per day/,
          );
          expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
          expect(Number(r.headers.get("retry-after"))).toBeLessThanOrEqual(86_400);
        }
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    },
  );

  it.skipIf(backend.unavailable)(
    "usage reads are neither billed nor refused by quotas and rate limits",
    async () => {
      const key = auth(keys.reader!.key);
      for (let i = 0; i < 2; i++) {
        expect((await postJson(`${server.url}/v1/embeddings`, { input: "a" }, key)).status).toBe(
          200,
        );
      }
      for (let i = 0; i < 4; i++) {
        const usage = await getJson(`${server.url}/v1/usage`, key);
        expect(usage.status).toBe(200);
        expect(usage.body.total.requests).toBe(2);
      }
      expect((await getJson(`${server.url}/v1/models`, key)).status).toBe(200);
      const over = await postJson(`${server.url}/v1/embeddings`, { input: "a" }, key);
      expect(over.status).toBe(429);
      // The refusal is a row too (an error, not billed).
      expect((await getJson(`${server.url}/v1/usage`, key)).body.total).toMatchObject({
        requests: 3,
        errors: 1,
      });
    },
  );

  it.skipIf(backend.unavailable)("a token quota trips once it is used up", async () => {
    const statuses: number[] = [];
    let tokens = 0;
    for (let i = 0; i < 4; i++) {
      const r = await postJson(
        `${server.url}/v1/embeddings`,
        { input: "hello world" },
        auth(keys.tokens!.key),
      );
      statuses.push(r.status);
      if (r.status === 200) tokens += r.body.usage.prompt_tokens;
      else expect(r.body.error.message).toMatch(/Token quota exhausted.*10 tokens per month/);
    }
    // "hello world" is 4 tokens: 0 → 4 → 8 → 12 (the request that crosses the quota is served).
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(tokens).toBe(12);
  });

  it.skipIf(backend.unavailable)("a rate limit trips at its count", async () => {
    const statuses = await Promise.all(
      Array.from({ length: 4 }, () =>
        postJson(`${server.url}/v1/embeddings`, { input: "a" }, auth(keys.rate!.key)).then((r) => {
          if (r.status === 429) {
            expect(r.body.error.message).toMatch(
              /Rate limit exceeded for API key 'rate': 2 requests per minute/,
            );
            expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
          }
          return r.status;
        }),
      ),
    );
    expect(statuses.sort()).toEqual([200, 200, 429, 429]);
  });

  it.skipIf(backend.unavailable)(
    "revoked and rotated keys get 401; the new key works",
    async () => {
      const ok = await postJson(
        `${server.url}/v1/embeddings`,
        { input: "a" },
        auth(keys.revoked!.key),
      );
      expect(ok.status).toBe(200);
      expect((await cli(["keys", "revoke", "revoked", "--store", spec])).code).toBe(0);
      const gone = await postJson(
        `${server.url}/v1/embeddings`,
        { input: "a" },
        auth(keys.revoked!.key),
      );
      expect(gone.status).toBe(401);
      expect(gone.body.error.type).toBe("AuthenticationError");

      const rotated = await cli(["keys", "rotate", "rotated", "--store", spec, "--json"]);
      const fresh = JSON.parse(rotated.stdout) as { key: string; id: string };
      expect(fresh.id).toBe(keys.rotated!.id);
      expect(
        (await postJson(`${server.url}/v1/embeddings`, { input: "a" }, auth(keys.rotated!.key)))
          .status,
      ).toBe(401);
      expect(
        (await postJson(`${server.url}/v1/embeddings`, { input: "a" }, auth(fresh.key))).status,
      ).toBe(200);
      const list = await cli(["keys", "list", "--store", spec]);
      expect(list.stdout).toMatch(/revoked\s+ep_\S+….*revoked 20/);
      expect(list.stdout).not.toContain(fresh.key);
    },
  );

  it.skipIf(backend.unavailable)(
    "static keys keep working and are metered under a hash",
    async () => {
      const r = await postJson(
        `${server.url}/v1/embeddings`,
        { input: "a" },
        { "x-api-key": STATIC },
      );
      expect(r.status).toBe(200);
      const usage = (await getJson(`${server.url}/v1/usage`, auth(STATIC))).body;
      expect(usage.key_id).toMatch(/^static:[0-9a-f]{16}$/);
      expect(usage.total.requests).toBe(1);
      expect(
        (await postJson(`${server.url}/v1/embeddings`, { input: "a" }, auth(" "))).status,
      ).toBe(401);
      const bad = await fetch(`${server.url}/v1/usage?group_by=week`, { headers: auth(STATIC) });
      expect(bad.status).toBe(400);
    },
  );

  it.skipIf(backend.unavailable)(
    "SIGTERM writes every ledger row; usage export writes csv, jsonl and Stripe meter events",
    async () => {
      expect(await server.stop()).toBe(0);
      const store: Store = await (await import("../../src/store/index.js")).openStore(spec);
      let rows = 0;
      for await (const _ of store.ledger.rows(0, Date.now() + 1)) rows++;
      await store.close();
      const csv = await cli(["usage", "export", "--store", spec, "--format", "csv"]);
      expect(csv.code).toBe(0);
      const lines = csv.stdout.trim().split("\n");
      expect(lines[0]).toBe(
        "id,time,key_id,key_name,customer,route,model,inputs,prompt_tokens,status,duration_ms,request_id",
      );
      expect(lines).toHaveLength(rows + 1);
      const jsonl = await cli([
        "usage",
        "export",
        "--store",
        spec,
        "--format",
        "jsonl",
        "--key",
        keys.k0!.id,
      ]);
      const records = jsonl.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(records.every((r) => r.key_id === keys.k0!.id && r.customer === "cus_k0")).toBe(true);
      const stripe = await cli([
        "usage",
        "export",
        "--store",
        spec,
        "--format",
        "stripe",
        "--event-name",
        "tokens",
      ]);
      const events = stripe.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      const k0Tokens = records
        .filter((r) => r.status < 400 && r.route === "/v1/embeddings")
        .reduce((s, r) => s + r.prompt_tokens, 0);
      const k0Events = events.filter((e) => e.payload.stripe_customer_id === "cus_k0");
      expect(k0Events.reduce((s, e) => s + Number(e.payload.value), 0)).toBe(k0Tokens);
      expect(new Set(events.map((e) => e.identifier)).size).toBe(events.length);
      expect(events[0]).toMatchObject({ event_name: "tokens", timestamp: expect.any(Number) });
    },
  );

  it.skipIf(backend.unavailable)(
    "keys create refuses a customer that is not a Stripe customer id",
    async () => {
      for (const customer of ["acme", "cus_", "cust_123", "cus_a b", " cus_abc"]) {
        const r = await cli([
          "keys",
          "create",
          "--store",
          spec,
          "--name",
          "bad",
          "--customer",
          customer,
        ]);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/--customer must be a Stripe customer id/);
      }
      expect((await cli(["keys", "list", "--store", spec])).stdout).not.toMatch(/\bbad\b/);
    },
  );

  it.skipIf(backend.unavailable)("keys never appear in the logs", () => {
    const logs = server.logs.join("\n");
    expect(logs).toContain('"path":"/v1/embeddings"'); // trace logs were written
    for (const k of Object.values(keys)) expect(logs).not.toContain(k.key);
    expect(logs).not.toContain(STATIC);
  });
});
