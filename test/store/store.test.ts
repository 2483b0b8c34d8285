import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../../src/store/index.js";
import { type TestBackend, testBackends } from "../helpers/stores.js";

const backends = await testBackends();

describe.each(backends)("store on $name", (backend: TestBackend) => {
  let store: Store;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    if (backend.unavailable) return;
    const created = await backend.create();
    drop = created.drop;
    store = await created.open();
    // Opening twice migrates twice: harmless.
    await (await created.open()).close();
  });
  afterAll(async () => {
    if (backend.unavailable) return;
    await store.close();
    await drop();
  });

  it.skipIf(backend.unavailable)("creates, finds, rotates and revokes keys by hash", async () => {
    const k = await store.keys.create({
      id: "key_a",
      name: "alpha",
      keyHash: "h1",
      keyPrefix: "ep_aaaa",
      requestQuota: 10,
      quotaPeriod: "day",
      createdAt: 1000,
    });
    expect(k).toMatchObject({
      id: "key_a",
      requestQuota: 10,
      tokenQuota: null,
      quotaPeriod: "day",
    });
    expect((await store.keys.findByHash("h1", 2000))?.id).toBe("key_a");
    expect(await store.keys.findByHash("nope", 2000)).toBeUndefined();

    await store.keys.rotate("key_a", { keyHash: "h2", keyPrefix: "ep_bbbb" }, 3000, 5000);
    expect((await store.keys.findByHash("h2", 4000))?.keyPrefix).toBe("ep_bbbb");
    expect((await store.keys.findByHash("h1", 4000))?.id).toBe("key_a"); // grace period
    expect(await store.keys.findByHash("h1", 5000)).toBeUndefined();

    expect(await store.keys.revoke("key_a", 6000)).toBe(true);
    expect(await store.keys.revoke("key_a", 6000)).toBe(false);
    expect(await store.keys.findByHash("h2", 6001)).toBeUndefined();
    expect((await store.keys.list()).map((x) => [x.id, x.revokedAt])).toEqual([["key_a", 6000]]);
    expect((await store.keys.get("alpha"))?.id).toBe("key_a");
  });

  it.skipIf(backend.unavailable)("appends ledger rows once and totals them", async () => {
    const day = 86_400_000;
    const row = (id: string, t: number, route: string, status = 200) => ({
      id,
      keyId: "key_l",
      route,
      model: "m",
      inputs: 2,
      promptTokens: 7,
      status,
      durationMs: 1.5,
      requestId: `r-${id}`,
      createdAt: t,
    });
    await store.ledger.append([row("1", day, "/v1/embeddings"), row("2", day + 5, "/rerank")]);
    await store.ledger.append([row("2", day + 5, "/rerank"), row("3", 2 * day, "/rerank", 429)]);
    expect(await store.ledger.spent("key_l", 0)).toEqual({ requests: 2, tokens: 14 });
    expect(await store.ledger.totals("key_l", 0, 3 * day, null)).toEqual([
      { group: null, requests: 3, errors: 1, inputs: 4, promptTokens: 14 },
    ]);
    const byDay = await store.ledger.totals("key_l", 0, 3 * day, "day");
    expect(byDay.map((t) => [t.group, t.requests])).toEqual([
      ["1970-01-02", 2],
      ["1970-01-03", 1],
    ]);
    const byRoute = await store.ledger.totals("key_l", 0, 3 * day, "route");
    expect(byRoute.map((t) => [t.group, t.promptTokens])).toEqual([
      ["/rerank", 7],
      ["/v1/embeddings", 7],
    ]);
    const all = [];
    for await (const r of store.ledger.rows(0, 3 * day, 2)) all.push(r.id);
    expect(all).toEqual(["1", "2", "3"]);
  });

  it.skipIf(backend.unavailable)("dedupes jobs by owner and idempotency key", async () => {
    const job = {
      owner: "key_j",
      idempotencyKey: "idem-1",
      requestHash: "rh",
      request: "{}",
      callbackUrl: "https://example.com/cb",
      maxAttempts: 3,
      createdAt: 100,
    };
    const a = await store.jobs.enqueue({ ...job, id: "job_1" });
    const b = await store.jobs.enqueue({ ...job, id: "job_2" });
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    expect(b.job.id).toBe("job_1");
    const c = await store.jobs.enqueue({ ...job, id: "job_3", owner: "other" });
    expect(c.job.id).toBe("job_3");
    const d = await store.jobs.enqueue({ ...job, id: "job_4", idempotencyKey: null });
    const e = await store.jobs.enqueue({ ...job, id: "job_5", idempotencyKey: null });
    expect([d.created, e.created]).toEqual([true, true]);
  });

  it.skipIf(backend.unavailable)("leases due jobs to one claimer at a time", async () => {
    const base = {
      owner: "key_q",
      idempotencyKey: null,
      requestHash: "rh",
      request: "{}",
      callbackUrl: "https://example.com/cb",
      maxAttempts: 3,
    };
    await store.jobs.enqueue({ ...base, id: "q1", createdAt: 10_000 });
    await store.jobs.enqueue({ ...base, id: "q2", createdAt: 10_001 });
    const now = 20_000;
    const claims = await Promise.all(
      Array.from({ length: 6 }, () => store.jobs.claim(now, 1000, 1)),
    );
    const ids = claims.flat().map((j) => j.id);
    // Older test jobs are due too; q1 and q2 each went to exactly one claimer.
    expect(ids.filter((i) => i === "q1")).toHaveLength(1);
    expect(ids.filter((i) => i === "q2")).toHaveLength(1);
    expect(await store.jobs.claim(now + 10, 1000, 10)).toEqual([]);
    // A lapsed lease makes the job due again, as a new attempt.
    const again = await store.jobs.claim(now + 1000, 1000, 10, "q1");
    expect(again.map((j) => [j.id, j.attempts])).toEqual([["q1", 2]]);
    const stale = claims.flat().find((j) => j.id === "q1")!;
    const outcome = {
      status: "succeeded" as const,
      nextAt: 0,
      result: "{}",
      error: null,
      lastStatus: 200,
      lastResponse: "ok",
    };
    expect(await store.jobs.finishAttempt(stale, outcome, now + 1001)).toBe(false);
    expect(await store.jobs.finishAttempt(again[0]!, outcome, now + 1001)).toBe(true);
    expect((await store.jobs.get("q1"))?.status).toBe("succeeded");
  });
});
