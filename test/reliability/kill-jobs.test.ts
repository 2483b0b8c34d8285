import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../../src/store/index.js";
import { fixture } from "../helpers/fixtures.js";
import { signedRequest, startReceiver, until } from "../helpers/receiver.js";
import { getJson, postJson, type RunningServer, startServer } from "../helpers/server.js";
import { type TestBackend, testBackends } from "../helpers/stores.js";
import { report, size } from "./mode.js";

const backends = await testBackends();
const secret = (s: string) =>
  `whsec_${Buffer.from(`${s}-0123456789abcdef0123`).toString("base64")}`;
const OUT = secret("out");
const IN = secret("in");

const signed = (body: unknown, at?: Date) => signedRequest(IN, body, at);

const cases = backends.flatMap((b) => [1, 4].map((concurrency) => ({ ...b, concurrency })));

describe.each(cases)(
  "kill -9 while jobs run, on $name, --job-concurrency $concurrency",
  (backend: TestBackend & { concurrency: number }) => {
    let spec: string;
    let open: () => Promise<Store>;
    let drop: () => Promise<void>;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    const args = () => [
      "--model",
      fixture("bert-cross-encoder"),
      "--store",
      spec,
      "--api-key",
      "k",
      "--webhook-secret",
      OUT,
      "--inbound-webhook-secret",
      IN,
      "--callback-allow-http",
      "--callback-allow-private",
      "--job-poll-ms",
      "50",
      "--job-lease-ms",
      "1000",
      "--job-backoff-ms",
      "100",
      // A kill repeats at most the deliveries under way: one per slot.
      "--job-concurrency",
      String(backend.concurrency),
    ];
    const env = { EDGEPOOL_STORE: "", DATABASE_URL: "" };
    const auth = { authorization: "Bearer k" };

    beforeAll(async () => {
      if (backend.unavailable) return;
      ({ spec, open, drop } = await backend.create());
      receiver = await startReceiver(OUT, () => 204);
    });
    afterAll(async () => {
      if (backend.unavailable) return;
      await receiver.close();
      await drop();
    });

    it.skipIf(backend.unavailable)(
      "every accepted job completes and is billed once, after any number of kills; deliveries repeat only across a kill, at most one per slot",
      async () => {
        const jobs = size(8, 60);
        const kills = size(1, 6);
        let server: RunningServer = await startServer(args(), env);
        const ids: string[] = [];
        for (let i = 0; i < jobs; i++) {
          const s = signed({
            query: `query ${i}`,
            documents: ["paris is the capital of france", `document ${i}`],
            callback_url: `${receiver.url}/cb`,
          });
          const res = await postJson(`${server.url}/v1/rerank/jobs`, s.text, {
            ...auth,
            ...s.headers,
          });
          expect(res.status).toBe(202);
          ids.push(res.body.id);
        }
        for (let k = 0; k < kills; k++) {
          // Kill as soon as the worker is busy: mid-job, mid-delivery or between them.
          const seen = receiver.deliveries.length;
          await until(() => (receiver.deliveries.length > seen ? true : undefined), 20_000).catch(
            () => undefined,
          );
          server.proc.kill("SIGKILL");
          await until(() =>
            server.proc.exitCode !== null || server.proc.signalCode ? true : undefined,
          );
          server = await startServer(args(), env);
        }
        try {
          const done = await until(async () => {
            const all = await Promise.all(
              ids.map((id) => getJson(`${server.url}/v1/rerank/jobs/${id}`, auth)),
            );
            return all.every((j) => j.body.status === "succeeded")
              ? all.map((j) => j.body)
              : undefined;
          }, 120_000);
          expect(done).toHaveLength(jobs);
          const perJob = ids.map(
            (id) =>
              receiver.deliveries.filter((d) => d.headers["webhook-id"] === id && d.error === null)
                .length,
          );
          // Nothing lost: each job delivered; a repeat only where a kill fell on a delivery under
          // way (sent, its answer not yet recorded; same webhook-id: receivers deduplicate), at
          // most one per slot.
          expect(perJob.every((c) => c >= 1)).toBe(true);
          const repeats = perJob.reduce((s, c) => s + (c - 1), 0);
          expect(repeats).toBeLessThanOrEqual(kills * backend.concurrency);
          // Billed exactly once each: the job's ledger row is committed with its result.
          const store = await open();
          const billed = new Map<string, number>();
          for await (const r of store.ledger.rows(0, Date.now() + 1)) {
            if (r.status < 400) billed.set(r.requestId, (billed.get(r.requestId) ?? 0) + 1);
          }
          await store.close();
          const lost = ids.filter((id) => !billed.has(id)).length;
          const twice = ids.filter((id) => (billed.get(id) ?? 0) > 1).length;
          report("kill-9-jobs", {
            backend: backend.name,
            concurrency: backend.concurrency,
            jobs,
            kills,
            repeats,
            maxRepeatsPerKill: backend.concurrency,
            ledgerRowsLost: lost,
            billedTwice: twice,
          });
          expect({ lost, twice }).toEqual({ lost: 0, twice: 0 });
        } finally {
          await server.stop();
        }
      },
      size(180_000, 900_000),
    );
  },
);
