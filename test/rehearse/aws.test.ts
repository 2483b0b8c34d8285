import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { type FauxqsServer, startFauxqs } from "fauxqs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DOCS_FILES } from "../../src/api/docs.js";
import { FAMILY_NAMES, ROUTE_FAMILIES } from "../../src/api/index.js";
import { fixture } from "../helpers/fixtures.js";
import { requireBundles } from "../helpers/functions.js";
import { stableJson } from "../helpers/lambda.js";
import { startReceiver, until } from "../helpers/receiver.js";
import { freePort, S3_ENV, type S3Server, startS3 } from "../helpers/s3.js";
import { postJson, type RunningServer, startServer } from "../helpers/server.js";
import { TEST_DATABASE_URL, testBackends } from "../helpers/stores.js";
import { unzip, zipEntries } from "../helpers/zip.js";
import { DocShell, docBlock } from "./doc.js";

// docs/deploy.md §2–§5 run as written, offline: pins to a local S3 server (s3rver), `osls
// package` with the documented parameters, the functions under serverless-offline, the jobs path
// against PostgreSQL with a local SQS (fauxqs) feeding the worker as Lambda's event source would.

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: unknown };
type Statement = { Effect: string; Action: string[]; Resource: unknown; Condition?: unknown };
const pascal = (s: string) => s[0]!.toUpperCase() + s.slice(1);
const MODEL_OF: Record<string, "MODEL" | "RERANK_PIN" | "CLASSIFY_PIN"> = {
  embeddings: "MODEL",
  pooling: "MODEL",
  tokenize: "MODEL",
  endpoint: "MODEL",
  rerank: "RERANK_PIN",
  score: "RERANK_PIN",
  classify: "CLASSIFY_PIN",
};
const FIXTURES = {
  EMBED_MODEL: "bert-embed-mean",
  RERANK_MODEL: "bert-cross-encoder",
  CLASSIFY_MODEL: "bert-classifier",
};
const OFFLINE_ENV = {
  ONNXRUNTIME_NODE_INSTALL: "skip",
  SLS_TELEMETRY_DISABLED: "1",
  SLS_NOTIFICATIONS_MODE: "off",
  EDGEPOOL_LOG_LEVEL: "warn",
  EDGEPOOL_CALLBACK_ALLOW_PRIVATE: "true",
  EDGEPOOL_CALLBACK_ALLOW_HTTP: "true",
};

const pg_ = await testBackends();
const postgres = pg_.find((b) => b.name === "postgres")!;

describe.skipIf(postgres.unavailable !== null)("rehearsal: AWS (docs/deploy.md §2–§5)", () => {
  let work: string;
  let shell: DocShell;
  let s3: S3Server;
  let sqs: FauxqsServer;
  let queueUrl: string;
  let db: { spec: string; drop(): Promise<void> };
  let schema: string;
  let pins: Record<"MODEL" | "RERANK_PIN" | "CLASSIFY_PIN", string>;
  let bucket: string;

  beforeAll(async () => {
    requireBundles(FAMILY_NAMES);
    work = await mkdtemp(join(tmpdir(), "edgepool-rehearse-aws-"));
    db = await postgres.create();
    schema = new URL(db.spec).searchParams.get("options")!.replace(/^-c search_path=/, "");
    sqs = await startFauxqs({ port: 0, logger: false, defaultRegion: "eu-west-1" });
    shell = new DocShell(work, {
      ...S3_ENV,
      ...OFFLINE_ENV,
      AWS_REGION: "eu-west-1",
      EDGEPOOL_CACHE_DIR: join(work, "cache"),
      AWS_ENDPOINT_URL_SQS: sqs.address,
      REHEARSAL_PACKAGE: join(work, "package"),
    });
    // §2: the models, then the rehearsal's stand-ins: the test fixtures, a local bucket.
    await shell.run(docBlock("models"));
    await shell.set(Object.fromEntries(Object.entries(FIXTURES).map(([k, v]) => [k, fixture(v)])));
    bucket = await shell.get("BUCKET");
    s3 = await startS3(join(work, "s3"), await freePort(), bucket);
    await shell.set({ AWS_ENDPOINT_URL: s3.endpoint, DATABASE_URL: db.spec });
    // fauxqs names queues by sqs.<region>.localhost, which this machine does not resolve.
    queueUrl = sqs
      .createQueue("edgepool-prod-rerank-jobs", { region: "eu-west-1" })
      .queueUrl.replace(/^http:\/\/[^/]+/, sqs.address.replace(/\/$/, ""));
  }, 120_000);

  afterAll(async () => {
    await s3?.kill();
    await sqs?.stop();
    await db?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("§0 the prerequisites answer", async () => {
    const { out } = await shell.run(docBlock("prerequisites"));
    expect(out).toMatch(/^v\d+\.\d+\.\d+$/m);
    expect(out).toMatch(/^jq-/m);
  });

  it("§2 pins three models to the bucket: each <name>/<manifest-sha256>", async () => {
    const { out } = await shell.run(docBlock("pin"));
    const printed = out.trim().split(/\s+/);
    const names = ["bert-embed-mean", "bert-cross-encoder", "bert-classifier"];
    expect(printed.map((p) => p.split("/")[0])).toEqual(names);
    for (const p of printed) expect(p).toMatch(/^[\w-]+\/[0-9a-f]{64}$/);
    pins = {
      MODEL: await shell.get("MODEL"),
      RERANK_PIN: await shell.get("RERANK_PIN"),
      CLASSIFY_PIN: await shell.get("CLASSIFY_PIN"),
    };
    await shell.run(docBlock("secrets"));
  }, 120_000);

  describe("§4 osls package with the documented parameters", () => {
    let template: string;
    let resources: Record<string, Resource>;
    const ofType = (t: string) => Object.entries(resources).filter(([, r]) => r.Type === t);
    const statementsOf = (role: string) =>
      (
        resources[role]!.Properties.Policies as Array<{
          PolicyDocument: { Statement: Statement[] };
        }>
      ).flatMap((p) => p.PolicyDocument.Statement);

    beforeAll(async () => {
      const code = docBlock("functions").replace(
        "npx osls deploy",
        'npx osls package --package "$REHEARSAL_PACKAGE"',
      );
      await shell.run(code);
      template = readFileSync(
        join(work, "package", "cloudformation-template-update-stack.json"),
        "utf8",
      );
      resources = (JSON.parse(template) as { Resources: Record<string, Resource> }).Resources;
    }, 240_000);

    it("one function per family, each with its role's model; the jobs pair with the database", () => {
      const fns = ofType("AWS::Lambda::Function").map(([id]) => id);
      expect(fns.sort()).toEqual(
        [...FAMILY_NAMES.map(pascal), "RerankJobs", "JobsWorker"]
          .map((f) => `${f}LambdaFunction`)
          .sort(),
      );
      for (const f of FAMILY_NAMES) {
        const env = (
          resources[`${pascal(f)}LambdaFunction`]!.Properties.Environment as {
            Variables: Record<string, unknown>;
          }
        ).Variables;
        const pin = pins[MODEL_OF[f]!];
        expect(env.EDGEPOOL_MODEL_URI, f).toBe(`s3://${bucket}/models/${pin}`);
        expect(env.EDGEPOOL_SERVED_MODEL_NAME).toBe(pin.split("/")[0]);
      }
    });

    it("a role per function: GetObject on its model's prefix, ListBucket of that prefix only", () => {
      expect(resources.IamRoleLambdaExecution).toBeUndefined();
      for (const f of FAMILY_NAMES) {
        const fn = resources[`${pascal(f)}LambdaFunction`]!;
        expect(fn.Properties.Role).toEqual({ "Fn::GetAtt": [`${pascal(f)}Role`, "Arn"] });
        const key = `models/${pins[MODEL_OF[f]!]}`;
        const s3 = statementsOf(`${pascal(f)}Role`).filter((s) =>
          s.Action.some((a) => a.startsWith("s3:")),
        );
        expect(s3).toEqual([
          {
            Effect: "Allow",
            Action: ["s3:GetObject"],
            Resource: `arn:aws:s3:::${bucket}/${key}/*`,
          },
          {
            Effect: "Allow",
            Action: ["s3:ListBucket"],
            Resource: `arn:aws:s3:::${bucket}`,
            Condition: { StringLike: { "s3:prefix": [`${key}/*`] } },
          },
        ]);
        // Only the jobs functions touch the queue.
        expect(JSON.stringify(statementsOf(`${pascal(f)}Role`))).not.toContain("sqs:");
      }
      const classify = statementsOf("ClassifyRole").map((s) => JSON.stringify(s.Resource));
      expect(classify.join()).toContain(pins.CLASSIFY_PIN);
      const accept = statementsOf("RerankJobsRole");
      expect(JSON.stringify(accept)).not.toContain("s3:");
      expect(accept.find((s) => s.Action.includes("sqs:SendMessage"))).toBeDefined();
      const worker = statementsOf("JobsWorkerRole").flatMap((s) => s.Action);
      expect(worker).toEqual(
        expect.arrayContaining(["s3:GetObject", "sqs:ReceiveMessage", "sqs:DeleteMessage"]),
      );
    });

    it("secrets are SSM parameter names, read at init; no value is in the template", async () => {
      for (const value of [
        await shell.get("API_KEY"),
        await shell.get("WEBHOOK_SECRET"),
        db.spec,
      ]) {
        expect(value.length).toBeGreaterThan(10);
        expect(template).not.toContain(value);
      }
      const env = (id: string) =>
        (resources[id]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env("EmbeddingsLambdaFunction")).toMatchObject({
        EDGEPOOL_API_KEYS_PARAMETER: "/edgepool/prod/api-keys",
        DATABASE_URL_PARAMETER: "/edgepool/prod/database-url",
      });
      expect(env("RerankJobsLambdaFunction")).toMatchObject({
        EDGEPOOL_WEBHOOK_SECRETS_PARAMETER: "/edgepool/prod/webhook-secrets",
      });
      const ssm = statementsOf("EmbeddingsRole").find((s) =>
        s.Action.includes("ssm:GetParameters"),
      )!;
      expect(JSON.stringify(ssm.Resource)).toContain("parameter/edgepool/prod/api-keys");
      expect(JSON.stringify(ssm.Resource)).not.toContain("webhook-secrets");
    });

    it("the queue's visibility timeout is six times the worker's timeout; a DLQ with an alarm", () => {
      const worker = resources.JobsWorkerLambdaFunction!.Properties as { Timeout: number };
      const queue = resources.RerankJobsQueue!.Properties as { VisibilityTimeout: number };
      expect(queue.VisibilityTimeout).toBe(6 * worker.Timeout);
      const [[, alarm]] = ofType("AWS::CloudWatch::Alarm") as [[string, Resource]];
      expect(alarm.Properties).toMatchObject({
        Namespace: "AWS/SQS",
        Dimensions: [
          {
            Name: "QueueName",
            Value: { "Fn::GetAtt": ["RerankJobsDeadLetterQueue", "QueueName"] },
          },
        ],
        AlarmActions: [{ Ref: "AlarmTopic" }],
      });
    });

    it("throttling, access logs and reserved concurrency", () => {
      const stage = resources.HttpApiStage!.Properties as Record<string, unknown>;
      expect(stage.DefaultRouteSettings).toEqual({
        ThrottlingRateLimit: 100,
        ThrottlingBurstLimit: 200,
      });
      expect(stage.AccessLogSettings).toMatchObject({
        DestinationArn: { "Fn::GetAtt": ["HttpApiLogGroup", "Arn"] },
      });
      for (const [, fn] of ofType("AWS::Lambda::Function")) {
        expect(fn.Properties.ReservedConcurrentExecutions).toBe(10);
      }
    });

    it("HTTP API routes: each family's paths go to its function", () => {
      const routes = ofType("AWS::ApiGatewayV2::Route").map(([, r]) => r.Properties.RouteKey);
      for (const f of FAMILY_NAMES) {
        for (const p of ROUTE_FAMILIES[f]) expect(routes).toContain(`POST ${p}`);
      }
      expect(routes).toEqual(
        expect.arrayContaining([
          "POST /v1/rerank/jobs",
          "GET /v1/usage",
          "GET /version",
          "GET /docs",
          "GET /docs/{file+}",
        ]),
      );
    });

    it("zips: ONNX Runtime for linux/x64 only, none in rerankJobs, which runs from its zip", async () => {
      for (const f of [...FAMILY_NAMES, "jobsWorker"]) {
        const names = zipEntries(join(work, "package", `${f}.zip`)).entries.map((e) => e.name);
        expect(names).toContain(
          "node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1",
        );
        expect(names.filter((n) => /napi-v6\/(darwin|win32|linux\/arm64)/.test(n))).toEqual([]);
        // The API page's files travel with the function /docs is routed to, and only with it.
        const docs = names.filter((n) => n.startsWith("node_modules/swagger-ui-dist/"));
        expect(docs.sort(), f).toEqual(
          f === "embeddings"
            ? ["LICENSE", "NOTICE", "package.json", ...Object.keys(DOCS_FILES)]
                .map((n) => `node_modules/swagger-ui-dist/${n}`)
                .sort()
            : [],
        );
      }
      const { buffer, entries } = zipEntries(join(work, "package", "rerankJobs.zip"));
      expect(entries.filter((e) => e.name.includes("onnxruntime"))).toEqual([]);
      expect(buffer.length).toBeLessThan(2 * 1024 * 1024);
      const dir = join(work, "rerank-jobs-zip");
      unzip(join(work, "package", "rerankJobs.zip"), dir);
      const script = `
        const { handler } = await import(${JSON.stringify(join(dir, "dist/functions/rerank-jobs/index.js"))});
        const r = await handler({ version: "2.0", routeKey: "$default", rawPath: "/version", rawQueryString: "",
          headers: {}, isBase64Encoded: false, requestContext: { http: { method: "GET", path: "/version",
          protocol: "HTTP/1.1", sourceIp: "203.0.113.7", userAgent: "t" }, accountId: "1", apiId: "x",
          domainName: "x", domainPrefix: "x", requestId: "r", routeKey: "$default", stage: "$default",
          time: "", timeEpoch: 0 } }, {});
        console.log(JSON.stringify({ status: r.statusCode, body: r.body }));`;
      writeFileSync(join(work, "version.mjs"), script);
      const { out } = await shell.run(`node ${JSON.stringify(join(work, "version.mjs"))}`, {
        NODE_PATH: "",
        EDGEPOOL_WEBHOOK_SECRETS: await shell.get("WEBHOOK_SECRET"),
        EDGEPOOL_JOBS_QUEUE_URL: queueUrl,
      });
      const last = JSON.parse(out.trim().split("\n").at(-1)!) as { status: number; body: string };
      expect(last.status).toBe(200);
      const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "../../package.json"), "utf8"));
      expect(JSON.parse(last.body)).toEqual({ version: pkg.version });
    }, 60_000);
  });

  describe("§4 packaging refuses what could not work, naming the parameter", () => {
    const refused = async (drop: RegExp) => {
      const code = docBlock("functions")
        .split("\n")
        .map((l) => l.replace(drop, ""))
        .join("\n")
        .replace("npm run build:functions\n", "")
        .replace("npx osls deploy", "npx osls print");
      return shell.run(code).then(
        (r) => `exit 0:\n${r.out}`,
        (err: Error) => err.message,
      );
    };

    it("no API keys without public=true; jobs without webhook secrets; a missing model", async () => {
      const [keys, hooks, classify] = await Promise.all([
        refused(/--param="apiKeysParameter=[^"]*"/),
        refused(/--param="webhookSecretsParameter=[^"]*"/),
        refused(/--param="classifyModel=[^"]*"/),
      ]);
      expect(keys).toContain("no API keys: give --param=apiKeysParameter=");
      expect(hooks).toContain("give --param=webhookSecretsParameter=");
      expect(classify).toContain("--param=classifyModel=<name>/<manifest-sha256> is required");
    }, 120_000);

    it("without a database no jobs functions or queue; public=true serves without keys", async () => {
      const code = docBlock("functions")
        .split("\n")
        .filter((l) => !/(apiKeysParameter|databaseUrlParameter|webhookSecretsParameter)=/.test(l))
        .join("\n")
        .replace("npm run build:functions\n", "")
        .replace("npx osls deploy", "npx osls print --format json --param=public=true");
      const { out } = await shell.run(code);
      const config = JSON.parse(out.slice(out.indexOf("{"))) as {
        functions: Record<string, { environment: Record<string, unknown> }>;
        resources: { Resources: Record<string, Resource> };
      };
      expect(Object.keys(config.functions).sort()).toEqual([...FAMILY_NAMES].sort());
      expect(config.resources.Resources.RerankJobsQueue).toBeUndefined();
      for (const fn of Object.values(config.functions)) {
        expect(Object.keys(fn.environment).filter((k) => k.endsWith("_PARAMETER"))).toEqual([]);
      }
    }, 60_000);

    it("a longer worker timeout raises the visibility timeout with it", async () => {
      const { out } = await shell.run(
        docBlock("functions")
          .replace("npm run build:functions\n", "")
          .replace("npx osls deploy", "npx osls print --format json --param=jobsWorkerTimeout=400"),
      );
      const config = JSON.parse(out.slice(out.indexOf("{"))) as {
        functions: Record<string, { timeout: number }>;
        resources: { Resources: Record<string, Resource> };
      };
      expect(config.functions.jobsWorker!.timeout).toBe(400);
      expect(config.resources.Resources.RerankJobsQueue!.Properties.VisibilityTimeout).toBe(2400);
    }, 60_000);
  });

  describe("§4–§5 serverless-offline: every route from the right model, the jobs path", () => {
    let offline: ReturnType<DocShell["start"]>;
    let server: RunningServer;
    let apiUrl: string;
    let lambdaUrl: string;
    let apiKey: string;
    const auth = () => ({ authorization: `Bearer ${apiKey}` });

    beforeAll(async () => {
      const [http, lambda] = [await freePort(), await freePort()];
      apiUrl = `http://127.0.0.1:${http}`;
      lambdaUrl = `http://127.0.0.1:${lambda}`;
      apiKey = await shell.get("API_KEY");
      const code = docBlock("offline").replace(
        "--httpPort 3000 --lambdaPort 3002",
        `--host 127.0.0.1 --httpPort ${http} --lambdaPort ${lambda}`,
      );
      offline = shell.start(code, /Server ready/, { EDGEPOOL_JOBS_QUEUE_URL: queueUrl });
      // The reference: `edgepool serve` with the same three models under the same names.
      server = await startServer([
        ...Object.values(FIXTURES).flatMap((f) => [
          "--model",
          fixture(f),
          "--served-model-name",
          f,
        ]),
      ]);
      await offline.started;
    }, 180_000);

    afterAll(async () => {
      await offline?.stop();
      await server?.stop();
    });

    it("answers each family like `edgepool serve` with that family's model", async () => {
      const cases: Array<[string, Record<string, unknown>]> = [
        ["/v1/embeddings", { model: "bert-embed-mean", input: ["hello world", "a cat"] }],
        [
          "/v1/rerank",
          { model: "bert-cross-encoder", query: "a cat", documents: ["a cat sat", "stocks fell"] },
        ],
        [
          "/score",
          { model: "bert-cross-encoder", text_1: "a cat", text_2: ["a cat sat", "stocks fell"] },
        ],
        ["/classify", { model: "bert-classifier", input: ["great movie", "awful"] }],
        ["/pooling", { model: "bert-embed-mean", input: "a dog" }],
        ["/tokenize", { model: "bert-embed-mean", prompt: "a dog" }],
        ["/invocations", { inputs: "a dog" }],
      ];
      for (const [path, body] of cases) {
        const want = await postJson(`${server.url}${path}`, body);
        const got = await postJson(`${apiUrl}${path}`, body, auth());
        expect(got.status, `${path}: ${JSON.stringify(got.body)}`).toBe(200);
        expect(want.status, path).toBe(200);
        expect(stableJson(JSON.stringify(got.body)), path).toEqual(
          stableJson(JSON.stringify(want.body)),
        );
      }
    }, 120_000);

    it("every route exists and authenticates (401 without the key)", async () => {
      for (const f of FAMILY_NAMES) {
        for (const path of ROUTE_FAMILIES[f]) {
          const res = await postJson(`${apiUrl}${path}`, {});
          expect(res.status, path).toBe(401);
        }
      }
    }, 120_000);

    it("the documented calls print the embedding's length, the reranked documents, a label, the version", async () => {
      const { out } = await shell.run(docBlock("call-functions"), { API_URL: apiUrl });
      const [len, rerank, label, version] = out.trim().split("\n");
      expect(Number(len)).toBe(32);
      const results = JSON.parse(rerank!) as Array<{ index: number; relevance_score: number }>;
      expect(results.map((r) => r.index).sort()).toEqual([0, 1]);
      expect(JSON.parse(label!)).toEqual(expect.any(String));
      const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "../../package.json"), "utf8"));
      expect(JSON.parse(version!)).toEqual({ version: pkg.version });
    }, 60_000);

    it("§5 a rerank job: stored in PostgreSQL, queued on SQS, run by the worker, delivered signed", async () => {
      const receiver = await startReceiver(await shell.get("WEBHOOK_SECRET"));
      try {
        const { out } = await shell.run(docBlock("jobs"), {
          API_URL: apiUrl,
          CALLBACK_URL: `${receiver.url}/hook`,
        });
        const accepted = JSON.parse(out) as { id: string; status: string };
        expect(accepted.status, out).toBe("queued");
        // The row, in the stage's database.
        const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await client.connect();
        try {
          const rows = await client.query(
            `SELECT status FROM ${schema}.rerank_jobs WHERE id = $1`,
            [accepted.id],
          );
          expect(rows.rows).toEqual([{ status: "queued" }]);
        } finally {
          await client.end();
        }
        // What Lambda's SQS event source does: receive, invoke the worker, delete what succeeded.
        const client2 = new SQSClient({
          region: "eu-west-1",
          endpoint: sqs.address,
          credentials: { accessKeyId: "x", secretAccessKey: "x" },
        });
        const got = await client2.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 5,
          }),
        );
        expect(got.Messages?.length).toBe(1);
        const records = got.Messages!.map((m) => ({
          messageId: m.MessageId,
          receiptHandle: m.ReceiptHandle,
          body: m.Body,
          attributes: {
            ApproximateReceiveCount: "1",
            SentTimestamp: String(Date.now()),
            SenderId: "AIDAIENQZJOLO23YVJ4VO",
            ApproximateFirstReceiveTimestamp: String(Date.now()),
          },
          messageAttributes: {},
          md5OfBody: m.MD5OfBody,
          eventSource: "aws:sqs",
          eventSourceARN: "arn:aws:sqs:eu-west-1:000000000000:edgepool-prod-rerank-jobs",
          awsRegion: "eu-west-1",
        }));
        const invoke = await fetch(
          `${lambdaUrl}/2015-03-31/functions/edgepool-prod-jobsWorker/invocations`,
          { method: "POST", body: JSON.stringify({ Records: records }) },
        );
        expect(invoke.status).toBe(200);
        expect(await invoke.json()).toEqual({ batchItemFailures: [] });
        for (const m of got.Messages!) {
          await client2.send(
            new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }),
          );
        }
        const delivery = await until(() => receiver.deliveries.find((d) => d.error === null));
        const payload = delivery.verified as {
          data: {
            id: string;
            result: { results: Array<{ index: number; relevance_score: number }> };
          };
        };
        expect(payload.data.id).toBe(accepted.id);
        // The cross-encoder's scores, as `edgepool serve` gives them.
        const want = (
          await postJson(`${server.url}/v1/rerank`, {
            model: "bert-cross-encoder",
            query: "a cat",
            documents: ["a cat sat", "stocks fell"],
          })
        ).body as { results: Array<{ index: number; relevance_score: number }> };
        expect(payload.data.result.results).toEqual(want.results);
        const job = await fetch(`${apiUrl}/v1/rerank/jobs/${accepted.id}`, { headers: auth() });
        expect(((await job.json()) as { status: string }).status).toBe("succeeded");
        // Metering on the same database: the calls above are in /v1/usage.
        const usage = await fetch(`${apiUrl}/v1/usage`, { headers: auth() });
        expect(usage.status).toBe(200);
        expect(
          ((await usage.json()) as { total: { requests: number } }).total.requests,
        ).toBeGreaterThan(0);
      } finally {
        await receiver.close();
      }
    }, 120_000);
  });
});
