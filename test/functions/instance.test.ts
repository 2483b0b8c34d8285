import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EngineOptions, loadEngine } from "../../src/engine/index.js";
import {
  createFunction,
  type FunctionOptions,
  functionConfig,
  LAMBDA_RESPONSE_LIMIT,
  lambdaHandlers,
  type StreamingHandler,
} from "../../src/lambda/index.js";
import { pinModel } from "../../src/models/index.js";
import { fixture } from "../helpers/fixtures.js";
import { httpApiEvent, type LambdaResult, lambdaContext } from "../helpers/lambda.js";
import { freePort, S3_ENV, type S3Server, startS3 } from "../helpers/s3.js";

const BUCKET = "models";

/** A function over `env`, with a loader that counts loads and log lines kept in memory. */
async function makeFunction(family: "embeddings" | "tokenize", env: NodeJS.ProcessEnv) {
  const loads: EngineOptions[] = [];
  const lines: Array<Record<string, unknown>> = [];
  const logStream = {
    write: (line: string) => {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  };
  const opts: FunctionOptions = {
    env: { EDGEPOOL_SERVED_MODEL_NAME: "m", ...env },
    logStream,
    loader: (o) => {
      loads.push(o);
      return loadEngine(o);
    },
  };
  const fn = await createFunction(family, opts);
  const invoke = async (event: unknown) =>
    (await fn.handler(event as never, lambdaContext(family) as never)) as unknown as LambdaResult;
  return { fn, loads, lines, invoke };
}

const embedEvent = (input: unknown) => httpApiEvent("POST", "/v1/embeddings", { body: { input } });

describe("a function instance", () => {
  let work: string;
  let s3: S3Server;
  let port: number;
  let uri: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "edgepool-fn-"));
    Object.assign(process.env, S3_ENV);
    port = await freePort();
    s3 = await startS3(join(work, "s3"), port, BUCKET);
    uri = (
      await pinModel(fixture("bert-embed-mean"), `s3://${BUCKET}/models`, { endpoint: s3.endpoint })
    ).uri;
  });

  afterAll(async () => {
    await s3.kill();
    rmSync(work, { recursive: true, force: true });
    process.env = saved;
  });

  it("loads once in init, logs the cold-start phases, and reuses the session", async () => {
    const f = await makeFunction("embeddings", {
      EDGEPOOL_MODEL_URI: uri,
      EDGEPOOL_S3_ENDPOINT: s3.endpoint,
      EDGEPOOL_CACHE_DIR: join(work, "cache-reuse"),
    });
    expect(f.loads).toHaveLength(1); // during createFunction: the init phase
    expect(f.loads[0]!.workers).toBe(0);
    expect(f.loads[0]!.session?.intraOpNumThreads).toBe(availableParallelism());
    const cold = f.lines.filter((l) => l.msg === "cold start");
    expect(cold).toHaveLength(1);
    const phases = cold[0]!.phases as Record<string, number>;
    for (const p of ["import", "fetch", "verify", "session", "tokenizer", "first_run"]) {
      expect(phases[p], p).toBeGreaterThanOrEqual(0);
    }
    expect(cold[0]).toMatchObject({
      function: "embeddings",
      model: uri,
      threads: availableParallelism(),
    });
    const a = await f.invoke(embedEvent("a cat"));
    const b = await f.invoke(embedEvent("a cat"));
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    expect(JSON.parse(b.body).data).toEqual(JSON.parse(a.body).data);
    expect(f.loads).toHaveLength(1);
    expect(f.fn.instance.loads).toBe(1);
    expect(f.lines.filter((l) => l.msg === "cold start")).toHaveLength(1);
  });

  it("answers 503 after a failed load and recovers on a later invocation", async () => {
    await s3.kill(); // the bucket is unreachable during init
    const f = await makeFunction("embeddings", {
      EDGEPOOL_MODEL_URI: uri,
      EDGEPOOL_S3_ENDPOINT: s3.endpoint,
      EDGEPOOL_CACHE_DIR: join(work, "cache-fail"),
    });
    expect(f.fn.instance.host.state).toBe("failed");
    const failed = await f.invoke(embedEvent("a cat"));
    expect(failed.statusCode).toBe(503);
    const err = JSON.parse(failed.body).error;
    expect(err).toMatchObject({ type: "ServiceUnavailableError", code: 503 });
    expect(err.message).toMatch(/^The model failed to load: Could not read s3:\/\/models\//);
    expect(f.loads).toHaveLength(2); // init, then this invocation's retry
    expect(f.lines.some((l) => String(l.msg).includes("the next invocation retries"))).toBe(true);

    s3 = await startS3(join(work, "s3"), port, BUCKET);
    const ok = await f.invoke(embedEvent("a cat"));
    expect(ok.statusCode).toBe(200);
    expect(f.loads).toHaveLength(3);
    expect((await f.invoke(embedEvent("a dog"))).statusCode).toBe(200);
    expect(f.loads).toHaveLength(3);
    expect(f.lines.filter((l) => l.msg === "cold start")).toHaveLength(1);
  });

  it("a pinned model already in the cache loads without the bucket", async () => {
    const cacheDir = join(work, "cache-warm");
    const env = {
      EDGEPOOL_MODEL_URI: uri,
      EDGEPOOL_S3_ENDPOINT: s3.endpoint,
      EDGEPOOL_CACHE_DIR: cacheDir,
    };
    await makeFunction("tokenize", env);
    await s3.kill();
    const again = await makeFunction("tokenize", env);
    expect(again.fn.instance.host.state).toBe("ready");
    s3 = await startS3(join(work, "s3"), port, BUCKET);
  });

  it.each([
    [{}, /EDGEPOOL_MODEL_URI is not set/],
    [
      { EDGEPOOL_MODEL_URI: fixture("bert-embed-mean"), EDGEPOOL_MAX_BATCH_SIZE: "lots" },
      /EDGEPOOL_MAX_BATCH_SIZE must be an integer/,
    ],
    [
      { EDGEPOOL_MODEL_URI: fixture("bert-embed-mean"), EDGEPOOL_WORKERS: "2" },
      /EDGEPOOL_WORKERS must be 0 in a function/,
    ],
    [
      { EDGEPOOL_MODEL_URI: fixture("bert-embed-mean"), EDGEPOOL_SPINNING: "fast" },
      /EDGEPOOL_SPINNING must be one of on, off/,
    ],
  ])("a configuration error is a 503 naming the variable (%o)", async (env, message) => {
    const f = await makeFunction("embeddings", env);
    const res = await f.invoke(embedEvent("a cat"));
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body).error.message).toMatch(message);
  });

  it("reads every model flag from EDGEPOOL_<FLAG>", () => {
    const c = functionConfig({
      EDGEPOOL_MODEL_URI: "s3://b/p",
      EDGEPOOL_MAX_MODEL_LEN: "32",
      EDGEPOOL_INTRA_OP_THREADS: "3",
      EDGEPOOL_SPINNING: "off",
      EDGEPOOL_POOLER_CONFIG: '{"pooling_type":"CLS"}',
      EDGEPOOL_RESPONSE_LIMIT: "1000",
    });
    expect(c.engine).toMatchObject({
      model: "s3://b/p",
      maxModelLen: 32,
      workers: 0,
      session: { intraOpNumThreads: 3, allowSpinning: false },
      poolerConfig: { pooling_type: "CLS" },
    });
    expect(c.responseLimit).toBe(1000);
    expect(functionConfig({ EDGEPOOL_MODEL_URI: "x" }).responseLimit).toBe(LAMBDA_RESPONSE_LIMIT);
  });

  describe("Lambda's 6 MB buffered response limit", () => {
    // 10,000 embeddings of 32 floats: about 6.7 MB of JSON.
    const inputs = Array.from({ length: 10_000 }, (_, i) => `text ${i}`);
    const env = {
      EDGEPOOL_MODEL_URI: fixture("bert-embed-mean"),
      EDGEPOOL_MAX_CLIENT_BATCH_SIZE: "10000",
      EDGEPOOL_MAX_REQUEST_TOKENS: "1000000",
    };

    it("a buffered response over it is a 413 naming the limit, never a 502", async () => {
      const f = await makeFunction("embeddings", env);
      const res = await f.invoke(embedEvent(inputs));
      expect(res.statusCode).toBe(413);
      const err = JSON.parse(res.body).error;
      expect(err.code).toBe(413);
      expect(err.message).toMatch(
        /over AWS Lambda's 6291456-byte \(6 MB\) limit for buffered responses/,
      );
      expect(err.message).toMatch(/RESPONSE_STREAM/);
      expect(res.headers["x-request-id"]).toMatch(/^\w+$/);
      const small = await f.invoke(embedEvent(inputs.slice(0, 1000)));
      expect(small.statusCode).toBe(200);
    });

    it("the streaming handler sends it whole", async () => {
      const f = await makeFunction("embeddings", env);
      // Lambda's Node runtime provides `awslambda`; outside it, a minimal stand-in with its contract.
      let metadata: { statusCode: number; headers: Record<string, string> } | null = null;
      const g = globalThis as unknown as { awslambda?: unknown };
      const before = g.awslambda; // the AWS SDK sets its own `awslambda` (InvokeStore)
      g.awslambda = {
        streamifyResponse: (h: StreamingHandler) => h,
        HttpResponseStream: {
          from: (s: Writable, m: typeof metadata) => {
            metadata = m;
            return s;
          },
        },
      };
      const chunks: Buffer[] = [];
      try {
        const { streamHandler } = lambdaHandlers(
          await f.fn.app(),
          () => f.fn.instance.ensure(),
          (r) => r,
        );
        const sink = new Writable({
          write(chunk, _enc, done) {
            chunks.push(Buffer.from(chunk));
            done();
          },
        });
        await streamHandler!(embedEvent(inputs) as never, sink, lambdaContext("e") as never);
      } finally {
        g.awslambda = before;
      }
      const body = Buffer.concat(chunks);
      expect(metadata!.statusCode).toBe(200);
      expect(body.length).toBeGreaterThan(LAMBDA_RESPONSE_LIMIT);
      expect(JSON.parse(body.toString()).data).toHaveLength(10_000);
    });
  });
});
