import { createHash } from "node:crypto";
import type { APIGatewayProxyEventV2, Context, SQSEvent, SQSRecord } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { JobQueue } from "../../src/lambda/index.js";
import {
  createJobsWorkerFunction,
  createRerankJobsFunction,
  type JobsWorkerFunction,
  type RerankJobsFunction,
} from "../../src/lambda/index.js";
import { fixture } from "../helpers/fixtures.js";
import { startReceiver } from "../helpers/receiver.js";
import { type TestBackend, testBackends } from "../helpers/stores.js";

const backends = await testBackends();
const SECRET = `whsec_${Buffer.from("lambda-jobs-secret-0123456789abcdef").toString("base64")}`;

function httpEvent(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Parameters<RerankJobsFunction["handler"]>[0] {
  const now = new Date();
  const event: APIGatewayProxyEventV2 = {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    headers: { "content-type": "application/json", authorization: "Bearer k", ...headers },
    requestContext: {
      accountId: "123456789012",
      apiId: "r3pmxmplak",
      domainName: "r3pmxmplak.execute-api.us-east-1.amazonaws.com",
      domainPrefix: "r3pmxmplak",
      http: {
        method,
        path,
        protocol: "HTTP/1.1",
        sourceIp: "203.0.113.7",
        userAgent: "curl/8.5.0",
      },
      requestId: `JKJaXmPLvHcESHA=${Math.random()}`,
      routeKey: "$default",
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    isBase64Encoded: false,
  };
  // Hono's event type differs from @types/aws-lambda's in optional fields only.
  return event as unknown as Parameters<RerankJobsFunction["handler"]>[0];
}

let seq = 0;
function sqsRecord(body: string): SQSRecord {
  const sent = String(Date.now());
  return {
    messageId: `059f36b4-87a3-44ab-83d2-66197${String(++seq).padStart(7, "0")}`,
    receiptHandle: `AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a${seq}`,
    body,
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: sent,
      SenderId: "AIDAIENQZJOLO23YVJ4VO",
      ApproximateFirstReceiveTimestamp: sent,
    },
    messageAttributes: {},
    md5OfBody: createHash("md5").update(body).digest("hex"),
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:edgepool-rerank-jobs",
    awsRegion: "us-east-1",
  };
}

const context = { awsRequestId: "c6af9ac6-7b61-11e6-9a41-93e812345678" } as Context;

describe.each(backends)("rerank job functions on $name", (backend: TestBackend) => {
  let drop: () => Promise<void>;
  let accept: RerankJobsFunction;
  let worker: JobsWorkerFunction;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  // SQS itself cannot run here: this records what the functions send to it.
  const sent: { id: string; delay: number }[] = [];
  const queue: JobQueue = {
    send: async (id, delay) => {
      sent.push({ id, delay });
    },
  };

  beforeAll(async () => {
    if (backend.unavailable) return;
    const created = await backend.create();
    drop = created.drop;
    receiver = await startReceiver(SECRET, (d) => (d.path === "/down" ? 503 : 204));
    const env = {
      EDGEPOOL_STORE: created.spec,
      DATABASE_URL: "",
      EDGEPOOL_WEBHOOK_SECRETS: SECRET,
      EDGEPOOL_CALLBACK_ALLOW_HTTP: "1",
      EDGEPOOL_CALLBACK_ALLOW_PRIVATE: "1",
      EDGEPOOL_JOB_BACKOFF_MS: "60000",
      EDGEPOOL_MODEL_URI: fixture("bert-cross-encoder"),
      EDGEPOOL_SERVED_MODEL_NAME: "ce",
      EDGEPOOL_API_KEYS: "k",
      EDGEPOOL_LOG_LEVEL: "silent",
    };
    accept = await createRerankJobsFunction({ env, queue });
    worker = await createJobsWorkerFunction({ env, queue });
  });
  afterAll(async () => {
    if (backend.unavailable) return;
    await receiver.close();
    await worker.fn.instance.host.engine?.close();
    await worker.fn.services?.store.close();
    await accept.services.store.close();
    await drop();
  });

  it.skipIf(backend.unavailable)(
    "accept stores and queues; the SQS worker delivers, retries later, and reports the bad message",
    async () => {
      const submit = async (path: string) => {
        const res = await accept.handler(
          httpEvent("POST", "/v1/rerank/jobs", {
            query: "capital of france?",
            documents: ["paris is the capital", "berlin"],
            callback_url: `${receiver.url}${path}`,
          }),
          context,
        );
        expect(res.statusCode).toBe(202);
        return (JSON.parse(res.body) as { id: string }).id;
      };
      const ok = await submit("/ok");
      const down = await submit("/down");
      expect(sent).toEqual([
        { id: ok, delay: 0 },
        { id: down, delay: 0 },
      ]);

      const bad = sqsRecord("not json");
      const event: SQSEvent = {
        Records: [
          sqsRecord(JSON.stringify({ job: ok })),
          sqsRecord(JSON.stringify({ job: down })),
          bad,
        ],
      };
      // The bad message is reported on stderr, one JSON line: read here, not printed.
      const reported = vi.spyOn(console, "error").mockImplementation(() => undefined);
      let lines: unknown[];
      const result = await worker.handler(event).finally(() => {
        lines = reported.mock.calls.map((c) => JSON.parse(String(c[0])) as unknown);
        reported.mockRestore();
      });
      expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: bad.messageId }] });
      expect(lines!).toEqual([
        expect.objectContaining({ msg: "job message failed", messageId: bad.messageId }),
      ]);

      const delivered = receiver.deliveries.find((d) => d.headers["webhook-id"] === ok)!;
      expect(delivered.error).toBeNull();
      expect(delivered.verified).toMatchObject({ type: "rerank.completed", data: { id: ok } });

      const view = async (id: string) =>
        JSON.parse((await accept.handler(httpEvent("GET", `/v1/rerank/jobs/${id}`), context)).body);
      expect(await view(ok)).toMatchObject({ status: "succeeded", attempts: 1 });
      expect(await view(down)).toMatchObject({
        status: "queued",
        attempts: 1,
        last_response_status: 503,
      });
      // The retry goes back to SQS, delayed by the backoff (60 s ± 20%).
      const retry = sent.slice(2);
      expect(retry).toHaveLength(1);
      expect(retry[0]!.id).toBe(down);
      expect(retry[0]!.delay).toBeGreaterThanOrEqual(47);
      expect(retry[0]!.delay).toBeLessThanOrEqual(72);

      // A redelivered message for a job that is not due yet only re-queues it.
      const again = await worker.handler({ Records: [sqsRecord(JSON.stringify({ job: down }))] });
      expect(again.batchItemFailures).toEqual([]);
      expect(await view(down)).toMatchObject({ attempts: 1 });
      expect(sent.at(-1)!.id).toBe(down);

      // The reranking ran metered under the caller's key.
      const usage = JSON.parse(
        (await accept.handler(httpEvent("GET", "/v1/usage"), context)).body,
      ) as { total: { prompt_tokens: number; requests: number } };
      expect(usage.total.prompt_tokens).toBeGreaterThan(0);
    },
  );
});
