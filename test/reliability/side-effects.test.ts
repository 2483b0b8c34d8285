import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { OUT_DIR } from "../../scripts/build-functions.js";
import { runCli, runNode } from "../helpers/cli.js";
import { fixture } from "../helpers/fixtures.js";
import { requireBundles } from "../helpers/functions.js";
import { httpApiEvent } from "../helpers/lambda.js";
import { postJson, startServer } from "../helpers/server.js";

const MODEL = fixture("bert-embed-mean");

/**
 * What ONNX Runtime reads to decide that it runs in CI or in its own unit tests, and then keeps
 * its telemetry off by itself: a user's shell has none of them, so neither does this test.
 */
const CI_VARIABLES = [
  "CI",
  "TF_BUILD",
  "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI",
  "GITHUB_ACTIONS",
  "GITLAB_CI",
  "CIRCLECI",
  "TRAVIS",
  "JENKINS_URL",
  "BUILDKITE",
  "APPVEYOR",
  "CODEBUILD_BUILD_ID",
  "BITBUCKET_BUILD_NUMBER",
  "TEAMCITY_VERSION",
  "ORT_RUNNING_UNIT_TESTS",
];

/** A user's environment: own HOME and TMPDIR, no CI markers, telemetry left to edgepool. */
function userEnv(home: string, tmp: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    HOME: home,
    TMPDIR: tmp,
    XDG_CACHE_HOME: undefined,
    EDGEPOOL_CACHE_DIR: undefined,
    ORT_DISABLE_TELEMETRY: undefined,
    ...extra,
  };
  for (const name of CI_VARIABLES) env[name] = undefined;
  return env;
}

const list = (dir: string) => readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();

/** Every path under HOME and TMPDIR outside edgepool's model cache (`~/.cache/edgepool`). */
function outsideCache(home: string, tmp: string): string[] {
  const inCache = (p: string) =>
    p === ".cache" || p === ".cache/edgepool" || p.startsWith(".cache/edgepool/");
  return [
    ...list(home)
      .filter((p) => !inCache(p))
      .map((p) => `~/${p}`),
    ...list(tmp).map((p) => `$TMPDIR/${p}`),
  ];
}

/**
 * Whether this process wrote `/tmp/mat-debug-<pid>.log` (the 1DS SDK's log, when TMPDIR is not
 * honoured): one left by an earlier process with the same pid is older than `since` (less a
 * second for the file system's coarse clock).
 */
function matDebugInTmp(pid: number | undefined, since: number): boolean {
  try {
    return statSync(`/tmp/mat-debug-${pid}.log`).mtimeMs >= since - 1000;
  } catch {
    return false;
  }
}

const dirs: string[] = [];
function scratch() {
  const home = mkdtempSync(join(tmpdir(), "edgepool-home-"));
  const tmp = mkdtempSync(join(tmpdir(), "edgepool-tmp-"));
  dirs.push(home, tmp);
  expect(list(home)).toEqual([]);
  expect(list(tmp)).toEqual([]);
  return { home, tmp };
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** One embedding with the library, imported by its package name as an application does. */
const LIBRARY = `
import { LLM } from "edgepool";
const llm = await LLM.load({ model: ${JSON.stringify(MODEL)} });
const [r] = await llm.embed(["a cat"]);
await llm.close();
console.log(r.outputs.embedding.length);
`;

/** The embeddings function's bundle, invoked once with a real HTTP API event. */
const FUNCTION = `
const { handler } = await import(${JSON.stringify(pathToFileURL(join(OUT_DIR, "embeddings", "index.js")).href)});
const event = ${JSON.stringify(httpApiEvent("POST", "/v1/embeddings", { body: { input: "a cat" } }))};
const res = await handler(event, { awsRequestId: "r", functionName: "embeddings", getRemainingTimeInMillis: () => 29000 });
console.log(res.statusCode);
`;

/**
 * ONNX Runtime's telemetry (on in its Linux build) writes `~/.cache/Microsoft/DeveloperTools/
 * .onnxruntime/{deviceid,onnxruntime.db}` and `$TMPDIR/mat-debug-<pid>.log` when its first
 * session is created, unless ORT_DISABLE_TELEMETRY or a CI marker is set. edgepool sets the
 * variable on the main thread before any session exists, whatever the entry point.
 */
describe("nothing is written outside the model cache (no CI variables set)", () => {
  it("control: ONNX Runtime alone, in the same environment, does write its telemetry files", async () => {
    const { home, tmp } = scratch();
    const code = `
const ort = (await import("onnxruntime-node")).default;
await ort.InferenceSession.create(${JSON.stringify(join(MODEL, "onnx", "model.onnx"))});
console.log("ok");
`;
    const r = await runNode(["--input-type=module", "-e", code], userEnv(home, tmp));
    expect(r.stdout, r.stderr).toBe("ok\n");
    // Without this, the assertions below would prove nothing.
    expect(outsideCache(home, tmp)).toEqual(
      expect.arrayContaining([
        "~/.cache/Microsoft/DeveloperTools/.onnxruntime/deviceid",
        `$TMPDIR/mat-debug-${r.pid}.log`,
      ]),
    );
  });

  it("edgepool embed", async () => {
    const { home, tmp } = scratch();
    const started = Date.now();
    const r = await runCli(["embed", "--model", MODEL, "a cat"], userEnv(home, tmp));
    expect(r.code, r.stderr).toBe(0);
    expect(outsideCache(home, tmp)).toEqual([]);
    expect(matDebugInTmp(r.pid, started)).toBe(false);
  });

  it("edgepool serve (what `npm start` runs), sessions in worker threads, after a request", async () => {
    const { home, tmp } = scratch();
    const started = Date.now();
    const server = await startServer(["--model", MODEL], userEnv(home, tmp));
    const res = await postJson(`${server.url}/v1/embeddings`, { input: "a cat" });
    expect(res.status).toBe(200);
    const pid = server.proc.pid;
    expect(await server.stop()).toBe(0);
    expect(outsideCache(home, tmp)).toEqual([]);
    expect(matDebugInTmp(pid, started)).toBe(false);
  });

  it("the library, imported by package name", async () => {
    const { home, tmp } = scratch();
    const started = Date.now();
    const r = await runNode(["--input-type=module", "-e", LIBRARY], userEnv(home, tmp));
    expect(r.stdout, r.stderr).toBe("32\n");
    expect(outsideCache(home, tmp)).toEqual([]);
    expect(matDebugInTmp(r.pid, started)).toBe(false);
  });

  it("a function bundle, cache in a folder of its own", async () => {
    requireBundles(["embeddings"]);
    const { home, tmp } = scratch();
    const started = Date.now();
    const cache = mkdtempSync(join(tmpdir(), "edgepool-cache-"));
    dirs.push(cache);
    const env = userEnv(home, tmp, {
      EDGEPOOL_MODEL_URI: MODEL,
      EDGEPOOL_CACHE_DIR: cache,
      EDGEPOOL_LOG_LEVEL: "warn",
    });
    const r = await runNode(["--input-type=module", "-e", FUNCTION], env);
    expect(r.stdout, r.stderr).toBe("200\n");
    expect(outsideCache(home, tmp)).toEqual([]);
    expect(matDebugInTmp(r.pid, started)).toBe(false);
  });
});
