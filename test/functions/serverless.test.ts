import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DOCS_FILES } from "../../src/api/docs.js";
import { FAMILY_NAMES, ROUTE_FAMILIES } from "../../src/api/index.js";
import { pinModel } from "../../src/models/index.js";
import { fixture } from "../helpers/fixtures.js";
import { requireBundles } from "../helpers/functions.js";
import { stableJson } from "../helpers/lambda.js";
import { freePort, S3_ENV, type S3Server, startS3 } from "../helpers/s3.js";
import { postJson, ROOT, type RunningServer, startServer } from "../helpers/server.js";
import { unzip, zipEntries } from "../helpers/zip.js";

const OSLS = join(ROOT, "node_modules", "osls", "bin", "serverless.js");
const MB = 1024 * 1024;
// What `osls package` needs offline: no ONNX Runtime download, no telemetry.
const OSLS_ENV = {
  ONNXRUNTIME_NODE_INSTALL: "skip",
  SLS_TELEMETRY_DISABLED: "1",
  SLS_NOTIFICATIONS_MODE: "off",
};

function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, ...OSLS_ENV, ...env },
    });
    let out = "";
    p.stdout.on("data", (c: Buffer) => (out += c.toString()));
    p.stderr.on("data", (c: Buffer) => (out += c.toString()));
    p.once("close", (code) => resolve({ code, out }));
  });
}

type Resource = { Type: string; Properties: Record<string, unknown> };
const pascal = (s: string) => s[0]!.toUpperCase() + s.slice(1);
/** Webhook reranking's functions, beside one per endpoint family. */
const JOB_FUNCTIONS = ["RerankJobs", "JobsWorker"];

describe("serverless.yml", () => {
  beforeAll(() => requireBundles(FAMILY_NAMES));

  describe("osls package", () => {
    let out: string;
    let resources: Record<string, Resource>;
    beforeAll(async () => {
      out = mkdtempSync(join(tmpdir(), "edgepool-sls-"));
      const res = await run([
        OSLS,
        "package",
        "--package",
        out,
        "--stage",
        "prod",
        "--region",
        "eu-west-1",
        "--param=modelBucket=acme-models",
        "--param=modelPrefix=pinned",
        "--param=model=minilm/aaaa",
        "--param=rerankModel=reranker/bbbb",
        "--param=functionUrl=true",
        "--param=provisionedConcurrency=1",
        "--param=rerankMemorySize=4096",
        "--param=tokenizeTimeout=10",
      ]);
      expect(res.code, res.out).toBe(0);
      const template = JSON.parse(
        readFileSync(join(out, "cloudformation-template-update-stack.json"), "utf8"),
      ) as { Resources: Record<string, Resource> };
      resources = template.Resources;
    }, 240_000);
    afterAll(() => rmSync(out, { recursive: true, force: true }));

    const ofType = (t: string) => Object.entries(resources).filter(([, r]) => r.Type === t);

    it("one function per endpoint family: runtime, handler, memory and timeout, model from the stage params", () => {
      const fns = ofType("AWS::Lambda::Function");
      expect(fns.map(([id]) => id).sort()).toEqual(
        [...FAMILY_NAMES.map(pascal), ...JOB_FUNCTIONS].map((f) => `${f}LambdaFunction`).sort(),
      );
      for (const f of FAMILY_NAMES) {
        const p = resources[`${pascal(f)}LambdaFunction`]!.Properties as {
          Runtime: string;
          Handler: string;
          FunctionName: string;
          MemorySize: number;
          Timeout: number;
          Architectures: string[];
          Environment: { Variables: Record<string, string> };
        };
        expect(p).toMatchObject({
          Runtime: "nodejs24.x",
          Handler: `dist/functions/${f}/index.handler`,
          FunctionName: `edgepool-prod-${f}`,
          MemorySize: f === "rerank" ? 4096 : 2048,
          Timeout: f === "tokenize" ? 10 : 29,
          Architectures: ["x86_64"],
        });
        const model = f === "rerank" || f === "score" ? "reranker/bbbb" : "minilm/aaaa";
        expect(p.Environment.Variables).toMatchObject({
          EDGEPOOL_MODEL_URI: `s3://acme-models/pinned/${model}`,
          EDGEPOOL_CACHE_DIR: "/tmp/edgepool",
        });
      }
    });

    it("HTTP API routes: each family's paths go to its function", () => {
      const integrationOf = new Map(
        // The function's ARN, or its provisioned-concurrency alias.
        ofType("AWS::ApiGatewayV2::Integration").map(([id, r]) => [
          id,
          JSON.stringify(r.Properties.IntegrationUri).match(
            /"([A-Z][A-Za-z]+?)(ProvConc|Lambda)/,
          )![1]!,
        ]),
      );
      const routes = new Map<string, string[]>();
      for (const [, r] of ofType("AWS::ApiGatewayV2::Route")) {
        const key = r.Properties.RouteKey as string;
        const target = (r.Properties.Target as { "Fn::Join": [string, [string, { Ref: string }]] })[
          "Fn::Join"
        ][1][1].Ref;
        const fn = integrationOf
          .get(target)!
          .replace(/LambdaFunction$/, "")
          .toLowerCase();
        routes.set(fn, [...(routes.get(fn) ?? []), key]);
      }
      for (const f of FAMILY_NAMES) {
        const posts = routes.get(f)!.filter((k) => k.startsWith("POST "));
        expect(posts.sort()).toEqual(ROUTE_FAMILIES[f].map((p) => `POST ${p}`).sort());
      }
      expect(routes.get("embeddings")).toEqual(
        expect.arrayContaining([
          "GET /health",
          "GET /v1/models",
          "GET /openapi.json",
          "GET /docs",
          "GET /docs/{file+}",
        ]),
      );
      for (const [, i] of ofType("AWS::ApiGatewayV2::Integration")) {
        expect(i.Properties.PayloadFormatVersion).toBe("2.0");
      }
    });

    it("webhook reranking: accept function on HTTP, SQS-triggered worker, queue with a DLQ", () => {
      const queues = Object.fromEntries(ofType("AWS::SQS::Queue"));
      expect(queues.RerankJobsQueue!.Properties).toMatchObject({
        QueueName: "edgepool-prod-rerank-jobs",
        VisibilityTimeout: 360,
        RedrivePolicy: {
          deadLetterTargetArn: { "Fn::GetAtt": ["RerankJobsDeadLetterQueue", "Arn"] },
          maxReceiveCount: 5,
        },
      });
      expect(queues.RerankJobsDeadLetterQueue!.Properties.QueueName).toBe(
        "edgepool-prod-rerank-jobs-dlq",
      );
      const [[, mapping]] = ofType("AWS::Lambda::EventSourceMapping") as [[string, Resource]];
      expect(mapping.Properties).toMatchObject({
        EventSourceArn: { "Fn::GetAtt": ["RerankJobsQueue", "Arn"] },
        BatchSize: 10,
        FunctionResponseTypes: ["ReportBatchItemFailures"],
      });
      expect(JSON.stringify(mapping.Properties.FunctionName)).toContain("JobsWorkerLambdaFunction");
      const worker = resources.JobsWorkerLambdaFunction!.Properties as {
        Handler: string;
        Timeout: number;
        Environment: { Variables: Record<string, unknown> };
      };
      expect(worker).toMatchObject({
        Handler: "dist/functions/jobs-worker/index.handler",
        Timeout: 60,
      });
      expect(worker.Environment.Variables).toMatchObject({
        EDGEPOOL_MODEL_URI: "s3://acme-models/pinned/reranker/bbbb",
        EDGEPOOL_JOBS_QUEUE_URL: { Ref: "RerankJobsQueue" },
      });
      const routes = ofType("AWS::ApiGatewayV2::Route").map(([, r]) => r.Properties.RouteKey);
      expect(routes).toEqual(
        expect.arrayContaining(["POST /v1/rerank/jobs", "GET /v1/rerank/jobs/{id}"]),
      );
    });

    it("IAM: read-only, on the pinned prefix only", () => {
      const [[, role]] = ofType("AWS::IAM::Role") as [[string, Resource]];
      const statements = (
        role.Properties.Policies as Array<{
          PolicyDocument: { Statement: Array<{ Action: string[]; Resource: unknown }> };
        }>
      ).flatMap((p) => p.PolicyDocument.Statement);
      const s3 = statements.filter((s) => s.Action.some((a) => a.startsWith("s3:")));
      expect(s3).toEqual([
        {
          Effect: "Allow",
          Action: ["s3:GetObject"],
          Resource: [
            "arn:aws:s3:::acme-models/pinned/minilm/aaaa/*",
            "arn:aws:s3:::acme-models/pinned/reranker/bbbb/*",
          ],
        },
      ]);
    });

    it("options: Function URLs and provisioned concurrency", () => {
      expect(ofType("AWS::Lambda::Url")).toHaveLength(FAMILY_NAMES.length);
      const aliases = ofType("AWS::Lambda::Alias");
      expect(aliases).toHaveLength(FAMILY_NAMES.length);
      for (const [, a] of aliases) {
        expect(a.Properties.ProvisionedConcurrencyConfig).toEqual({
          ProvisionedConcurrentExecutions: 1,
        });
      }
    });

    it("each zip: its bundle plus onnxruntime-node for linux/x64 only, well under Lambda's limits", () => {
      for (const f of FAMILY_NAMES) {
        const zip = join(out, `${f}.zip`);
        const { buffer, entries } = zipEntries(zip);
        const names = entries.map((e) => e.name);
        const unzipped = entries.reduce((n, e) => n + e.size, 0);
        expect(names).toContain(`dist/functions/${f}/index.js`);
        expect(names).toContain(
          "node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1",
        );
        expect(names.filter((n) => /napi-v6\/(darwin|win32|linux\/arm64)/.test(n))).toEqual([]);
        expect(
          names.filter(
            (n) => n.startsWith("dist/functions/") && !n.startsWith(`dist/functions/${f}/`),
          ),
        ).toEqual([]);
        // The API page's files travel with the function /docs is routed to, and only with it.
        const docs = names.filter((n) => n.startsWith("node_modules/swagger-ui-dist/"));
        expect(docs.sort()).toEqual(
          f === "embeddings"
            ? ["LICENSE", "NOTICE", "package.json", ...Object.keys(DOCS_FILES)]
                .map((n) => `node_modules/swagger-ui-dist/${n}`)
                .sort()
            : [],
        );
        expect(buffer.length).toBeLessThan(50 * MB); // direct-upload limit
        expect(unzipped).toBeLessThan(250 * MB); // Lambda's unzipped limit
        const bundle = entries
          .filter((e) => e.name.startsWith("dist/"))
          .reduce((n, e) => n + e.size, 0);
        expect(bundle).toBeLessThan(2 * MB);
      }
    });

    it("a zip runs on its own: extracted, its handler answers from its own node_modules", async () => {
      const dir = mkdtempSync(join(tmpdir(), "edgepool-zip-"));
      try {
        unzip(join(out, "embeddings.zip"), dir);
        const script = `
          const { handler } = await import(${JSON.stringify(join(dir, "dist/functions/embeddings/index.js"))});
          const call = (method, path, body) => handler({ version: "2.0", routeKey: "$default", rawPath: path,
            rawQueryString: "", headers: { "content-type": "application/json" }, body, isBase64Encoded: false,
            requestContext: { http: { method, path, protocol: "HTTP/1.1",
              sourceIp: "203.0.113.7", userAgent: "t" }, domainName: "x.lambda-url.eu-west-1.on.aws",
              accountId: "anonymous", apiId: "x", domainPrefix: "x", requestId: "r", routeKey: "$default",
              stage: "$default", time: "", timeEpoch: 0 } }, {});
          const r = await call("POST", "/v1/embeddings", JSON.stringify({ input: "a cat" }));
          const page = await call("GET", "/docs", "");
          const js = await call("GET", "/docs/swagger-ui-bundle.js", "");
          const ort = (await import("node:module")).createRequire(${JSON.stringify(join(dir, "dist/functions/embeddings/index.js"))}).resolve("onnxruntime-node");
          console.log(JSON.stringify({ status: r.statusCode, dims: JSON.parse(r.body).data[0].embedding.length, ort,
            docs: [page.statusCode, page.headers["content-security-policy"], page.body],
            js: [js.statusCode, Buffer.from(js.body, js.isBase64Encoded ? "base64" : "utf8").toString("base64")] }));`;
        const res = await run(["--input-type=module", "-e", script], {
          EDGEPOOL_MODEL_URI: fixture("bert-embed-mean"),
          EDGEPOOL_LOG_LEVEL: "warn",
          NODE_PATH: "",
        });
        const last = JSON.parse(res.out.trim().split("\n").at(-1)!) as {
          status: number;
          dims: number;
          ort: string;
          docs: [number, string, string];
          js: [number, string];
        };
        expect(last.status, res.out).toBe(200);
        expect(last.dims).toBe(32);
        expect(last.ort.startsWith(dir)).toBe(true);
        // The same page as the server's, its files read from the zip's own swagger-ui-dist.
        const server = await startServer(["--model", fixture("bert-embed-mean")]);
        try {
          const page = await fetch(`${server.url}/docs`);
          expect(last.docs).toEqual([
            200,
            page.headers.get("content-security-policy"),
            await page.text(),
          ]);
        } finally {
          await server.stop();
        }
        expect(last.js[0]).toBe(200);
        expect(
          Buffer.from(last.js[1], "base64").equals(
            readFileSync(join(dir, "node_modules/swagger-ui-dist/swagger-ui-bundle.js")),
          ),
        ).toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("serverless-offline", () => {
    let work: string;
    let s3: S3Server;
    let offline: ChildProcess;
    let url: string;
    let server: RunningServer;

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), "edgepool-offline-"));
      Object.assign(process.env, S3_ENV);
      s3 = await startS3(join(work, "s3"), await freePort(), "models");
      const pinned = await pinModel(fixture("bert-embed-mean"), "s3://models/pinned", {
        endpoint: s3.endpoint,
      });
      const [httpPort, lambdaPort] = [await freePort(), await freePort()];
      server = await startServer([
        "--model",
        fixture("bert-embed-mean"),
        "--served-model-name",
        "edgepool",
      ]);
      offline = spawn(
        process.execPath,
        [
          OSLS,
          "offline",
          "start",
          "--host",
          "127.0.0.1",
          "--httpPort",
          String(httpPort),
          "--lambdaPort",
          String(lambdaPort),
          "--param=modelBucket=models",
          "--param=modelPrefix=pinned",
          `--param=model=${pinned.uri.split("/").slice(-2).join("/")}`,
        ],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            ...OSLS_ENV,
            ...S3_ENV,
            AWS_ENDPOINT_URL: s3.endpoint,
            EDGEPOOL_CACHE_DIR: join(work, "cache"),
          },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      url = `http://127.0.0.1:${httpPort}`;
      const logs: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`offline did not start:\n${logs.join("")}`)),
          120_000,
        );
        const onData = (c: Buffer) => {
          logs.push(c.toString());
          if (/Server ready/.test(logs.join(""))) {
            clearTimeout(timer);
            resolve();
          }
        };
        offline.stdout!.on("data", onData);
        offline.stderr!.on("data", onData);
        offline.once("exit", (code) =>
          reject(new Error(`offline exited ${code}:\n${logs.join("")}`)),
        );
      });
    }, 240_000);

    afterAll(async () => {
      if (offline && offline.exitCode === null) {
        const exited = new Promise((r) => offline.once("exit", r));
        offline.kill("SIGINT");
        await exited;
      }
      await server?.stop();
      await s3?.kill();
      rmSync(work, { recursive: true, force: true });
      for (const k of Object.keys(S3_ENV)) delete process.env[k];
    });

    it("serves the embeddings function over HTTP, answering like the server", async () => {
      for (const [path, body] of [
        ["/v1/embeddings", { input: ["hello world", "a cat"] }],
        ["/v2/embed", { texts: ["a cat"], input_type: "search_query", embedding_types: ["float"] }],
        ["/embed", { inputs: "a dog" }],
      ] as const) {
        const [got, want] = [
          await postJson(`${url}${path}`, body),
          await postJson(`${server.url}${path}`, body),
        ];
        expect(got.status, JSON.stringify(got.body)).toBe(200);
        expect(stableJson(JSON.stringify(got.body))).toEqual(stableJson(JSON.stringify(want.body)));
      }
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(200);
      const bad = await postJson(`${url}/v1/embeddings`, { input: [] });
      expect(bad.status).toBe(
        (await postJson(`${server.url}/v1/embeddings`, { input: [] })).status,
      );
    });
  });
});
