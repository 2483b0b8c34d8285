import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFunction } from "../../src/lambda/index.js";
import { fixture } from "../helpers/fixtures.js";
import { type RunningServer, startServer } from "../helpers/server.js";
import { type FuzzRequest, request } from "./arbitraries.js";
import { FULL, report, size } from "./mode.js";
import { functionTarget, httpTarget, type Target } from "./targets.js";

const KNOWN: FuzzRequest = {
  path: "/v1/embeddings",
  body: JSON.stringify({ input: ["a cat", "hello world"] }),
  contentType: "application/json",
};
const KNOWN_SCORE: FuzzRequest = {
  path: "/score",
  body: JSON.stringify({ text_1: "a cat", text_2: ["a cat", "a dog"] }),
  contentType: "application/json",
};

/** The comparable part of an answer: its data without ids and timestamps. */
const essence = (text: string) => {
  const { data, results } = JSON.parse(text) as { data?: unknown; results?: unknown };
  return JSON.stringify(data ?? results);
};

/** Ping `/health` every 100 ms while `work` runs: the longest wait says how long the loop stalled. */
async function watchHealth<T>(url: string | null, work: () => Promise<T>) {
  let longest = 0;
  let failures = 0;
  let running = true;
  const loop = (async () => {
    while (running && url) {
      const start = performance.now();
      const ok = await fetch(`${url}/health`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (!ok) failures++;
      longest = Math.max(longest, performance.now() - start);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    return { result: await work(), longestHealthMs: () => longest, failures: () => failures };
  } finally {
    running = false;
    await loop;
  }
}

async function fuzz(target: Target, known: FuzzRequest, runs: number, healthUrl: string | null) {
  const before = await target.send(known);
  expect(before.status).toBe(200);
  const statuses = new Map<number, number>();
  const fiveHundreds: Array<{ req: FuzzRequest; text: string }> = [];
  let cases = 0;
  const started = performance.now();
  const watched = await watchHealth(healthUrl, () =>
    fc.assert(
      fc.asyncProperty(request, async (req) => {
        const res = await target.send(req);
        cases++;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status >= 500) fiveHundreds.push({ req, text: res.text });
        expect(
          res.status,
          `${req.path} ${req.body.slice(0, 300)} → ${res.text.slice(0, 300)}`,
        ).toBeLessThan(500);
      }),
      { numRuns: runs, interruptAfterTimeLimit: size(90_000, 1_500_000) },
    ),
  );
  const after = await target.send(known);
  expect(after.status).toBe(200);
  expect(essence(after.text)).toBe(essence(before.text));
  expect(watched.failures()).toBe(0);
  report("fuzz", {
    target: target.name,
    cases,
    seconds: Math.round((performance.now() - started) / 1000),
    fiveHundreds: fiveHundreds.length,
    statuses: Object.fromEntries([...statuses].sort(([a], [b]) => a - b)),
    longestHealthMs: Math.round(watched.longestHealthMs()),
  });
  return cases;
}

describe("property-based fuzzing of every route (fast-check)", () => {
  let embed: RunningServer;
  let cross: RunningServer;
  beforeAll(async () => {
    [embed, cross] = await Promise.all([
      startServer(["--model", fixture("bert-embed-mean")]),
      startServer(["--model", fixture("bert-cross-encoder")]),
    ]);
  });
  afterAll(async () => {
    await Promise.all([embed?.stop(), cross?.stop()]);
  });

  it(
    `embedding model server: ${size(200, 10_000)} requests, no 5xx, alive, known answer unchanged`,
    async () => {
      const cases = await fuzz(
        httpTarget("server:bert-embed-mean", embed.url),
        KNOWN,
        size(200, 10_000),
        embed.url,
      );
      if (FULL) expect(cases).toBeGreaterThanOrEqual(10_000);
    },
    size(120_000, 1_800_000),
  );

  it(
    `cross-encoder server: ${size(100, 2_000)} requests, no 5xx`,
    async () => {
      await fuzz(
        httpTarget("server:bert-cross-encoder", cross.url),
        KNOWN_SCORE,
        size(100, 2_000),
        cross.url,
      );
    },
    size(120_000, 900_000),
  );

  it(
    `embeddings function handler: ${size(100, 2_000)} events, no 5xx`,
    async () => {
      // Fuzzed requests draw warnings (ignored fields): kept here, not printed.
      const logged: Array<{ level: number; msg: string }> = [];
      const fn = await createFunction("embeddings", {
        env: { EDGEPOOL_MODEL_URI: fixture("bert-embed-mean"), EDGEPOOL_LOG_LEVEL: "warn" },
        logStream: { write: (line: string) => void logged.push(JSON.parse(line)) },
      });
      await fuzz(
        functionTarget("function:embeddings", fn.handler as never),
        KNOWN,
        size(100, 2_000),
        null,
      );
      // pino's error level (50) and above: a failed request or a crash.
      expect(logged.filter((l) => l.level >= 50)).toEqual([]);
      await fn.instance.host.engine?.close();
    },
    size(120_000, 900_000),
  );
});
