import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, maxAbsDiff } from "../helpers/fixtures.js";
import { type RunningServer, startServer } from "../helpers/server.js";
import { FULL, report, rssOf, size } from "./mode.js";

const MODEL = fixture("bert-embed-mean");
const heavy = (seed: number) => ({
  input: Array.from(
    { length: 32 },
    (_, i) => `request ${seed % 7} input ${i} ${"a cat sat on the mat ".repeat(6)}`,
  ),
});

async function post(url: string, body: unknown) {
  const res = await fetch(`${url}/v1/embeddings`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { data?: Array<{ embedding: number[] }> };
  return { status: res.status, retryAfter: res.headers.get("retry-after"), json };
}

describe("overload at 4× capacity", () => {
  const capacity = size(4, 64);
  let server: RunningServer;
  beforeAll(async () => {
    // The full form runs with serve's default bound, derived from the token budget (64).
    server = await startServer([
      "--model",
      MODEL,
      ...(FULL ? [] : ["--max-concurrent-requests", String(capacity)]),
    ]);
  });
  afterAll(async () => {
    await server.stop();
  });

  it(
    `accepted answers are correct, the rest 429 at once, RSS bounded`,
    async () => {
      // One at a time: the reference answers must not meet the bound themselves.
      const expected: Awaited<ReturnType<typeof post>>[] = [];
      for (let s = 0; s < 7; s++) expected.push(await post(server.url, heavy(s)));
      const rssBefore = await rssOf(server.proc.pid!);
      const rounds = size(2, 5);
      let ok = 0;
      let refused = 0;
      const refusedMs: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const results = await Promise.all(
          Array.from({ length: 4 * capacity }, async (_, i) => {
            const start = performance.now();
            const r = await post(server.url, heavy(i));
            return { ...r, i, ms: performance.now() - start };
          }),
        );
        for (const r of results) {
          if (r.status === 429) {
            refused++;
            refusedMs.push(r.ms);
            expect(Number(r.retryAfter)).toBeGreaterThan(0);
            continue;
          }
          expect(r.status).toBe(200);
          ok++;
          const want = expected[r.i % 7]!.json.data!.map((d) => d.embedding);
          expect(
            maxAbsDiff(
              r.json.data!.map((d) => d.embedding),
              want,
            ),
          ).toBeLessThan(1e-5);
        }
      }
      const rssAfter = await rssOf(server.proc.pid!);
      expect(refused).toBeGreaterThan(0);
      expect(ok).toBeGreaterThan(0);
      refusedMs.sort((a, b) => a - b);
      report("overload", {
        capacity,
        concurrent: 4 * capacity,
        rounds,
        answered: ok,
        refused429: refused,
        refusedP50Ms: Math.round(refusedMs[Math.floor(refusedMs.length / 2)] ?? 0),
        rssBeforeMiB: Math.round((rssBefore ?? 0) / 2 ** 20),
        rssAfterMiB: Math.round((rssAfter ?? 0) / 2 ** 20),
      });
      if (rssBefore && rssAfter) expect(rssAfter).toBeLessThan(rssBefore * 2 + 256 * 2 ** 20);
    },
    size(120_000, 900_000),
  );
});

/** POST on a connection of its own (no keep-alive pool): the status, or the socket error code. */
function postFresh(url: string, body: unknown): Promise<{ status: number; error: string | null }> {
  return new Promise((resolve) => {
    const req = request(
      `${url}/v1/embeddings`,
      { method: "POST", agent: false, headers: { "content-type": "application/json" } },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, error: null }));
        res.on("error", (err) =>
          resolve({ status: 0, error: (err as NodeJS.ErrnoException).code ?? err.message }),
        );
      },
    );
    req.on("error", (err) =>
      resolve({ status: 0, error: (err as NodeJS.ErrnoException).code ?? err.message }),
    );
    req.end(JSON.stringify(body));
  });
}

describe("SIGTERM under load", () => {
  it("answers every accepted request, then exits 0", async () => {
    const n = size(16, 200);
    // Every request may be accepted (none shed by the concurrency limit with a 429), so that the
    // shutdown finds as many in flight as were sent.
    const server = await startServer(["--model", MODEL, "--max-concurrent-requests", String(n)]);
    const pending = Array.from({ length: n }, (_, i) =>
      postFresh(server.url, { input: heavy(i).input.slice(0, 8) }),
    );
    await new Promise((r) => setTimeout(r, 150));
    const exit = server.stop();
    const results = await Promise.all(pending);
    expect(await exit).toBe(0);
    const answered = results.filter((r) => r.status === 200).length;
    // Exit 0 says the shutdown cut no accepted request (a cut one exits 1). Connections still in
    // the kernel's accept queue when the listener closed are refused or reset, never answered.
    for (const r of results) {
      if (r.status !== 200)
        expect(
          r.status === 503 || r.error === "ECONNREFUSED" || r.error === "ECONNRESET",
          JSON.stringify(r),
        ).toBe(true);
    }
    expect(answered).toBeGreaterThan(0);
    report("sigterm", { requests: n, answered, refused: n - answered });
  }, 120_000);
});

describe("soak", () => {
  it(
    "resident memory stays flat under steady load",
    async () => {
      const server = await startServer(["--model", MODEL]);
      try {
        const seconds = size(4, 300);
        const warmup = seconds * 0.2 * 1000;
        const end = performance.now() + seconds * 1000;
        const start = performance.now();
        let baseline: number | null = null;
        let requests = 0;
        const workers = Array.from({ length: 4 }, async (_, w) => {
          while (performance.now() < end) {
            const r = await post(server.url, { input: heavy(w + requests).input.slice(0, 4) });
            expect(r.status).toBe(200);
            requests++;
            if (baseline === null && performance.now() - start > warmup)
              baseline = await rssOf(server.proc.pid!);
          }
        });
        await Promise.all(workers);
        const final = await rssOf(server.proc.pid!);
        const growth = baseline && final ? (final - baseline) / baseline : 0;
        report("soak", {
          seconds,
          requests,
          rssAfterWarmupMiB: Math.round((baseline ?? 0) / 2 ** 20),
          rssEndMiB: Math.round((final ?? 0) / 2 ** 20),
          growthPercent: Number((growth * 100).toFixed(2)),
        });
        expect(growth).toBeLessThan(FULL ? 0.05 : 0.5);
      } finally {
        await server.stop();
      }
    },
    size(60_000, 900_000),
  );
});
