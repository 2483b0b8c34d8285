import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKey } from "../helpers/cli.js";
import { fixture } from "../helpers/fixtures.js";
import { signedRequest, startReceiver, until } from "../helpers/receiver.js";
import { getJson, postJson, type RunningServer, startServer } from "../helpers/server.js";
import { type TestBackend, testBackends } from "../helpers/stores.js";

const backends = await testBackends();
const secret = (s: string) =>
  `whsec_${Buffer.from(`${s}-0123456789abcdef0123`).toString("base64")}`;
const OLD_SECRET = secret("old");
const NEW_SECRET = secret("new");
const INBOUND = secret("inbound");
const QUERY = "capital of france?";
const DOCS = ["paris is the capital of france", "berlin is in germany", "france"];

const signed = (body: unknown, at?: Date) => signedRequest(INBOUND, body, at);

describe.each(backends)("webhook reranking on $name", (backend: TestBackend) => {
  let server: RunningServer;
  let spec: string;
  let drop: () => Promise<void>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const args = () => [
    "--model",
    fixture("bert-cross-encoder"),
    "--served-model-name",
    "ce",
    "--store",
    spec,
    "--api-key",
    "k",
    "--webhook-secret",
    OLD_SECRET,
    "--webhook-secret",
    NEW_SECRET,
    "--inbound-webhook-secret",
    INBOUND,
    "--callback-allow-http",
    "--callback-allow-private",
    "--job-poll-ms",
    "100",
    "--job-lease-ms",
    "1500",
    "--job-backoff-ms",
    "200",
  ];
  const auth = { authorization: "Bearer k" };
  const submit = (body: unknown, extra: Record<string, string> = {}) => {
    const s = signed(body);
    return postJson(`${server.url}/v1/rerank/jobs`, s.text, { ...auth, ...s.headers, ...extra });
  };
  const job = (id: string) => getJson(`${server.url}/v1/rerank/jobs/${id}`, auth);

  beforeAll(async () => {
    if (backend.unavailable) return;
    const created = await backend.create();
    spec = created.spec;
    drop = created.drop;
    // The receiver has rotated to the new secret: it verifies with it alone.
    receiver = await startReceiver(NEW_SECRET, (d) => (d.path === "/gone" ? 410 : 204));
    server = await startServer(args(), { EDGEPOOL_STORE: "", DATABASE_URL: "" });
  });
  afterAll(async () => {
    if (backend.unavailable) return;
    await server?.stop();
    await receiver?.close();
    await drop();
  });

  it.skipIf(backend.unavailable)(
    "accepts a signed job (202) and calls back, signed, with the rerank result",
    async () => {
      const res = await submit({
        query: QUERY,
        documents: DOCS,
        top_n: 2,
        callback_url: `${receiver.url}/ok`,
        metadata: { ticket: 42 },
      });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ object: "rerank.job", status: "queued" });
      expect(res.headers.get("location")).toBe(`/v1/rerank/jobs/${res.body.id}`);
      const done = await until(async () => {
        const j = await job(res.body.id);
        return j.body.status === "succeeded" ? j.body : undefined;
      });
      expect(done).toMatchObject({ attempts: 1, last_response_status: 204, error: null });
      const sync = await postJson(
        `${server.url}/v1/rerank`,
        { query: QUERY, documents: DOCS, top_n: 2 },
        auth,
      );
      expect(done.result.results).toEqual(sync.body.results);

      const delivery = receiver.deliveries.find((d) => d.headers["webhook-id"] === res.body.id)!;
      expect(delivery.error).toBeNull();
      expect(delivery.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
      expect(delivery.verified).toMatchObject({
        type: "rerank.completed",
        data: { id: res.body.id, status: "succeeded", metadata: { ticket: 42 } },
      });
      expect((delivery.verified as { data: { result: unknown } }).data.result).toEqual(done.result);
    },
  );

  it.skipIf(backend.unavailable)(
    "bad signature, old timestamp, missing headers → 401; a replayed webhook-id → the same job",
    async () => {
      const body = { query: QUERY, documents: DOCS, callback_url: `${receiver.url}/ok` };
      const good = signed(body);
      const url = `${server.url}/v1/rerank/jobs`;
      const tampered = await postJson(url, good.text.replace("france", "spain"), {
        ...auth,
        ...good.headers,
      });
      expect(tampered.status).toBe(401);
      expect(tampered.body.error.message).toMatch(/Invalid webhook signature/);

      const old = signed(body, new Date(Date.now() - 10 * 60_000));
      const stale = await postJson(url, old.text, { ...auth, ...old.headers });
      expect(stale.status).toBe(401);
      expect(stale.body.error.message).toMatch(/timestamp too old/);

      const accepted = await postJson(url, good.text, { ...auth, ...good.headers });
      expect(accepted.status).toBe(202);
      // A sender retrying after a lost 202 (same webhook-id) gets the same job, as from an
      // idempotent receiver: no second job, no 401.
      const replay = await postJson(url, good.text, { ...auth, ...good.headers });
      expect(replay.status).toBe(202);
      expect(replay.headers.get("idempotent-replayed")).toBe("true");
      expect(replay.body.id).toBe(accepted.body.id);

      expect((await postJson(url, good.text, auth)).status).toBe(401);
      // Signed but no API key: still 401.
      const noKey = signed(body);
      expect((await postJson(url, noKey.text, noKey.headers)).status).toBe(401);
    },
  );

  it.skipIf(backend.unavailable)(
    "a job is billed once, when it runs, against its submission's admission; polls are not billed",
    async () => {
      const k = await createKey(spec, "one-job", ["--request-quota", "1", "--quota-period", "day"]);
      const mine = { authorization: `Bearer ${k.key}` };
      const body = { query: QUERY, documents: DOCS, callback_url: `${receiver.url}/ok` };
      const s = signed(body);
      const res = await postJson(`${server.url}/v1/rerank/jobs`, s.text, { ...mine, ...s.headers });
      expect(res.status).toBe(202);
      // The quota of 1 is taken by the job accepted.
      const second = signed({ ...body, query: "another" });
      const refused = await postJson(`${server.url}/v1/rerank/jobs`, second.text, {
        ...mine,
        ...second.headers,
      });
      expect(refused.status).toBe(429);
      const done = await until(async () => {
        const j = await getJson(`${server.url}/v1/rerank/jobs/${res.body.id}`, mine);
        expect(j.status).toBe(200);
        return j.body.status === "succeeded" ? j.body : undefined;
      });
      for (let i = 0; i < 3; i++) {
        expect((await getJson(`${server.url}/v1/rerank/jobs/${res.body.id}`, mine)).status).toBe(
          200,
        );
      }
      const usage = await getJson(`${server.url}/v1/usage?group_by=route`, mine);
      expect(usage.status).toBe(200);
      expect(usage.body.data).toEqual([
        {
          group: "/v1/rerank",
          requests: 1,
          errors: 0,
          inputs: DOCS.length,
          prompt_tokens: done.result.usage.total_tokens,
        },
        { group: "/v1/rerank/jobs", requests: 1, errors: 1, inputs: 0, prompt_tokens: 0 },
      ]);
    },
  );

  it.skipIf(backend.unavailable)(
    "a callback that never answers holds its own slot only: other jobs are delivered meanwhile",
    async () => {
      const hold = await startReceiver(NEW_SECRET, () => null);
      try {
        const stuck = await submit({
          query: QUERY,
          documents: DOCS,
          callback_url: `${hold.url}/cb`,
        });
        expect(stuck.status).toBe(202);
        await until(() => (hold.deliveries.length > 0 ? true : undefined));
        const next = await submit({
          query: QUERY,
          documents: DOCS,
          callback_url: `${receiver.url}/ok`,
        });
        await until(async () => {
          const j = await job(next.body.id);
          return j.body.status === "succeeded" ? true : undefined;
        });
        // Delivered while the first callback is still waiting for its answer (--callback-timeout-ms).
        const first = (await job(stuck.body.id)).body;
        expect(first).toMatchObject({ status: "running", attempts: 1, last_response_status: null });
        expect(first.last_response_excerpt).toBeNull();
      } finally {
        await hold.close();
      }
    },
  );

  it.skipIf(backend.unavailable)("a repeated Idempotency-Key returns the same job", async () => {
    const body = { query: QUERY, documents: DOCS, callback_url: `${receiver.url}/ok` };
    const key = { "idempotency-key": `order-${Date.now()}` };
    const a = await submit(body, key);
    const b = await submit(body, key);
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.body.id).toBe(a.body.id);
    expect(b.headers.get("idempotent-replayed")).toBe("true");
    const other = await submit({ ...body, query: "another" }, key);
    expect(other.status).toBe(422);
    expect(other.body.error.param).toBe("Idempotency-Key");
  });

  it.skipIf(backend.unavailable)("a 410 stops delivery: failed after one attempt", async () => {
    const res = await submit({
      query: QUERY,
      documents: DOCS,
      callback_url: `${receiver.url}/gone`,
    });
    const done = await until(async () => {
      const j = await job(res.body.id);
      return j.body.status === "failed" ? j.body : undefined;
    });
    expect(done).toMatchObject({
      attempts: 1,
      last_response_status: 410,
      last_response_excerpt: "nope",
    });
    expect(done.error).toMatch(/410 Gone/);
  });

  it.skipIf(backend.unavailable)("bad job requests get 400/404 in the error shape", async () => {
    const base = { query: QUERY, documents: DOCS, callback_url: `${receiver.url}/ok` };
    const cases: [unknown, number, string][] = [
      [{ ...base, callback_url: "ftp://example.com/" }, 400, "callback_url"],
      [{ ...base, documents: [] }, 400, "documents"],
      [{ ...base, colour: "red" }, 400, ""],
      [{ ...base, model: "nope" }, 404, "model"],
    ];
    for (const [body, status, param] of cases) {
      const r = await submit(body);
      expect(r.status).toBe(status);
      if (param) expect(r.body.error.param ?? "").toContain(param);
    }
    expect((await job("job_unknown")).status).toBe(404);
  });

  it.skipIf(backend.unavailable)(
    "a job is refused at submission exactly as the synchronous /v1/rerank refuses it",
    async () => {
      const base = { query: QUERY, callback_url: `${receiver.url}/ok` };
      for (const documents of [
        ["x".repeat(150_000)], // over --max-input-chars
        ["paris", "word ".repeat(2000)], // over the model's length, in tokens
        Array.from({ length: 2049 }, () => "a"), // over --max-client-batch-size
      ]) {
        const sync = await postJson(`${server.url}/v1/rerank`, { query: QUERY, documents }, auth);
        expect(sync.status).toBe(400);
        const r = await submit({ ...base, documents });
        expect(r.status).toBe(400);
        expect(r.body.error.message).toBe(sync.body.error.message);
      }
      // Parameters of the synchronous route are taken and run: truncation makes the long one fit.
      const fits = await submit({
        ...base,
        documents: ["paris", "word ".repeat(2000)],
        truncate_prompt_tokens: -1,
      });
      expect(fits.status).toBe(202);
      const done = await until(async () => {
        const j = await job(fits.body.id);
        return j.body.status === "succeeded" ? j.body : undefined;
      });
      expect(done.result.results).toHaveLength(2);
    },
  );

  it.skipIf(backend.unavailable)(
    "SIGKILL between accept and delivery: delivered after restart, once per 2xx",
    async () => {
      let firstHeld = false;
      const hold = await startReceiver(NEW_SECRET, () => {
        if (!firstHeld) {
          firstHeld = true;
          return null; // the first delivery is never answered: the server dies meanwhile
        }
        return 200;
      });
      try {
        const res = await submit({ query: QUERY, documents: DOCS, callback_url: `${hold.url}/cb` });
        expect(res.status).toBe(202);
        await until(() => (hold.deliveries.length > 0 ? true : undefined));
        server.proc.kill("SIGKILL");
        await until(() =>
          server.proc.exitCode !== null || server.proc.signalCode ? true : undefined,
        );
        hold.dropHeld();
        server = await startServer(args(), { EDGEPOOL_STORE: "", DATABASE_URL: "" });
        const done = await until(async () => {
          const j = await job(res.body.id);
          return j.body.status === "succeeded" ? j.body : undefined;
        });
        expect(done.attempts).toBe(2);
        // Longer than a lease: nothing is delivered again.
        await new Promise((r) => setTimeout(r, 2500));
        const mine = hold.deliveries.filter((d) => d.headers["webhook-id"] === res.body.id);
        expect(mine).toHaveLength(2);
        expect(mine.filter((d) => d.answered !== null && d.answered < 300)).toHaveLength(1);
        expect(mine.every((d) => d.error === null)).toBe(true);
      } finally {
        await hold.close();
      }
    },
  );
});
