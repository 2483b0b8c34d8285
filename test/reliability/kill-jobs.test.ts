import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

describe.each(backends)("kill -9 while jobs run, on $name", (backend: TestBackend) => {
  let spec: string;
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
    // One job at a time: a kill can then interrupt at most one delivery not yet recorded.
    "--job-concurrency",
    "1",
  ];
  const env = { EDGEPOOL_STORE: "", DATABASE_URL: "" };
  const auth = { authorization: "Bearer k" };

  beforeAll(async () => {
    if (backend.unavailable) return;
    ({ spec, drop } = await backend.create());
    receiver = await startReceiver(OUT, () => 204);
  });
  afterAll(async () => {
    if (backend.unavailable) return;
    await receiver.close();
    await drop();
  });

  it.skipIf(backend.unavailable)(
    "every accepted job completes once, after any number of kills; deliveries only repeat across a kill",
    async () => {
      const jobs = size(4, 60);
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
        // Nothing lost: each job delivered; a repeat only where a kill fell between the
        // receiver's 2xx and the store's record of it (same webhook-id: receivers deduplicate).
        expect(perJob.every((c) => c >= 1)).toBe(true);
        const repeats = perJob.reduce((s, c) => s + (c - 1), 0);
        expect(repeats).toBeLessThanOrEqual(kills);
        report("kill-9-jobs", { backend: backend.name, jobs, kills, repeats });
      } finally {
        await server.stop();
      }
    },
    size(180_000, 900_000),
  );
});
