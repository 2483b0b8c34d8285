import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/index.js";
import { type Engine, loadEngine } from "../../src/engine/index.js";
import {
  CallbackSigner,
  DEFAULT_CALLBACK_POLICY,
  DEFAULT_RETRY,
  InboundVerifier,
  type JobWorker,
  nominalDelay,
} from "../../src/jobs/index.js";
import type { Store } from "../../src/store/index.js";
import { fixture } from "../helpers/fixtures.js";
import { type TestBackend, testBackends } from "../helpers/stores.js";

const backends = await testBackends();
const SECRET = `whsec_${Buffer.from("worker-test-secret-0123456789abcdef").toString("base64")}`;

/** A port nothing listens on: bound, then closed. */
async function deadPort(): Promise<number> {
  const s: Server = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe.each(backends)("job retries on $name (fake clock)", (backend: TestBackend) => {
  let engine: Engine;
  let store: Store;
  let drop: () => Promise<void>;
  let clock = Date.UTC(2026, 0, 1);

  beforeAll(async () => {
    if (backend.unavailable) return;
    engine = await loadEngine({ model: fixture("bert-cross-encoder"), servedModelName: "ce" });
    const created = await backend.create();
    drop = created.drop;
    store = await created.open();
  });
  afterAll(async () => {
    if (backend.unavailable) return;
    await engine.close();
    await store.close();
    await drop();
  });

  it.skipIf(backend.unavailable)(
    "receiver down: retried on the backoff schedule, then failed and kept",
    async () => {
      const { app, jobs } = createApp(engine, {
        jobs: {
          store,
          options: {
            signer: new CallbackSigner([SECRET]),
            inbound: new InboundVerifier([]),
            callbacks: { ...DEFAULT_CALLBACK_POLICY, allowHttp: true, allowPrivate: true },
            retry: DEFAULT_RETRY,
            leaseMs: 60_000,
            concurrency: 4,
            pollMs: 1000,
            callbackTimeoutMs: 2000,
            now: () => clock,
            random: () => 0.5,
          },
        },
      });
      const worker = jobs as JobWorker;
      const port = await deadPort();
      const res = await app.request("/v1/rerank/jobs", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          query: "capital of france?",
          documents: ["paris is the capital", "berlin"],
          callback_url: `http://127.0.0.1:${port}/cb`,
          metadata: { ticket: 7 },
        }),
      });
      expect(res.status).toBe(202);
      const { id } = (await res.json()) as { id: string };

      const attemptsAt: number[] = [];
      for (let attempt = 1; attempt <= DEFAULT_RETRY.attempts; attempt++) {
        const before = await store.jobs.get(id);
        // Not due a millisecond early.
        clock = before!.nextAt - 1;
        expect(await worker.tick()).toBe(0);
        clock = before!.nextAt;
        attemptsAt.push(clock);
        expect(await worker.tick()).toBe(1);
        const after = (await store.jobs.get(id))!;
        expect(after.attempts).toBe(attempt);
        expect(after.lastStatus).toBeNull();
        expect(after.lastResponse).toMatch(/ECONNREFUSED/);
        if (attempt < DEFAULT_RETRY.attempts) {
          expect(after.status).toBe("queued");
          // random() = 0.5 sits in the middle of the jitter band: the nominal delay exactly.
          expect(after.nextAt - clock).toBe(nominalDelay(attempt, DEFAULT_RETRY));
        } else {
          expect(after.status).toBe("failed");
          expect(after.error).toMatch(/not delivered after 8 attempts; last: no answer/);
        }
      }
      expect(attemptsAt.slice(1).map((t, i) => t - attemptsAt[i]!)).toEqual([
        5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000,
      ]);
      // Dead letter: kept, with the computed result, and no longer due.
      clock += 10 * 3_600_000;
      expect(await worker.tick()).toBe(0);
      const view = (await (await app.request(`/v1/rerank/jobs/${id}`)).json()) as {
        status: string;
        attempts: number;
        result: { results: unknown[] };
        metadata: unknown;
      };
      expect(view).toMatchObject({ status: "failed", attempts: 8, metadata: { ticket: 7 } });
      expect(view.result.results).toHaveLength(2);
    },
  );
});
