import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture } from "../helpers/fixtures.js";
import { freePort } from "../helpers/s3.js";
import { ROOT } from "../helpers/server.js";
import {
  commands,
  docBlock,
  hubScratch,
  listeningPort,
  postJson,
  runSh,
  runTs,
  type Started,
  startServe,
  startSh,
  substitute,
  withRepoPackages,
} from "./blocks.js";

/** The README's port, as the snippets spell it. */
const onPort = (code: string, port: number) =>
  code.replaceAll("localhost:8000", `localhost:${port}`);

describe("README: set up and test", () => {
  it("the set-up block is what .ci/run runs, in order", () => {
    const ci = readFileSync(join(ROOT, ".ci", "run"), "utf8").split("\n");
    const lines = docBlock("README.md", "setup").trim().split("\n");
    expect(lines).toEqual(["npm ci", "npm test"]);
    const at = lines.map((l) => ci.indexOf(l));
    expect(at.every((i) => i > 0)).toBe(true);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    // .ci/run takes Node 24 first, as the README's next block does.
    expect(ci.indexOf(". .ci/node.sh")).toBeGreaterThan(0);
    expect(ci.indexOf(". .ci/node.sh")).toBeLessThan(at[0]!);
  });
});

describe("README: npm ci leaves ONNX Runtime's CUDA download off", () => {
  it("npm 12 by allowScripts; older npm by the .npmrc switch, which the install script obeys", async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    expect(pkg.allowScripts["onnxruntime-node"]).toBe(false);
    const setting = await runSh("npm config get onnxruntime-node-install");
    expect(setting.stdout.trim()).toBe("skip");
    // npm passes a config key to install scripts as npm_config_<key>: the script stops at once,
    // before any download (the Hub and NuGet are unreachable here, so a download would fail).
    const script = await runSh("node node_modules/onnxruntime-node/script/install", {
      env: { npm_config_onnxruntime_node_install: "skip" },
    });
    expect(script.code, script.stderr).toBe(0);
    expect(script.stdout + script.stderr).toBe("");
  });
});

// `npm start` as a newcomer runs it, offline: the Hub unreachable, so the fallback fixture is
// served. The snippets then run against that server as written, on its port.
describe("README: npm start, and the snippets against its server", () => {
  let server: Started;
  let port: number;
  let cache: string;
  let project: string;

  beforeAll(async () => {
    cache = mkdtempSync(join(tmpdir(), "edgepool-readme-cache-"));
    project = withRepoPackages(mkdtempSync(join(tmpdir(), "edgepool-readme-")));
    const start = docBlock("README.md", "start").trim();
    expect(start).toBe("npm start");
    server = await startSh(`${start} -- --host 127.0.0.1 --port 0`, /"msg":"model ready"/, {
      env: {
        HF_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
        EDGEPOOL_CACHE_DIR: cache,
      },
    });
    port = listeningPort(server.log());
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(cache, { recursive: true, force: true });
    rmSync(project, { recursive: true, force: true });
  });

  it("npm start serves all-MiniLM-L6-v2's fallback fixture as edgepool-demo, saying so", async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    expect(pkg.scripts.start).toContain("--model sentence-transformers/all-MiniLM-L6-v2");
    expect(pkg.scripts.start).toContain("--fallback-model test/fixtures/models/bert-embed-mean");
    expect(server.log()).toContain("serving the fallback model instead");
    expect(server.log()).toContain("SERVING A TEST FIXTURE WITH RANDOM WEIGHTS");
    const models = (await (await fetch(`http://127.0.0.1:${port}/v1/models`)).json()) as {
      data: { id: string }[];
    };
    expect(models.data.map((m) => m.id)).toEqual(["edgepool-demo"]);
  });

  it("curl: two embeddings of the served model's width", async () => {
    const r = await runSh(onPort(docBlock("README.md", "curl-embeddings"), port));
    expect(r.code, r.stderr).toBe(0);
    const body = JSON.parse(r.stdout) as { model: string; data: { embedding: number[] }[] };
    expect(body.model).toBe("edgepool-demo");
    expect(body.data).toHaveLength(2);
    const width = JSON.parse(readFileSync(join(fixture("bert-embed-mean"), "config.json"), "utf8"))
      .hidden_size as number;
    expect(width).toBe(32);
    for (const d of body.data) expect(d.embedding).toHaveLength(width);
  });

  it("OpenAI's client prints the width (32 offline, as its comment says)", async () => {
    const code = docBlock("README.md", "openai");
    expect(code).toContain("// 384 (32 offline)");
    const r = await runTs(onPort(code, port), project);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("32\n");
  });

  it("Cohere's client reranks both documents, best first", async () => {
    const r = await runTs(onPort(docBlock("README.md", "cohere-rerank"), port), project);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    const rows = lines.map((l) => l.split(" ").map(Number));
    expect(rows.map(([i]) => i).sort()).toEqual([0, 1]);
    expect(rows[0]![1]).toBeGreaterThanOrEqual(rows[1]![1]!);
  });

  it("/classify on the embedding model is a 404 naming its tasks, as the README says", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/classify`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input: ["great movie"] }),
    });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toContain("it serves: embed, token_embed, score");
  });
});

describe("README: serve another model", () => {
  const ctx = hubScratch("edgepool-readme-models-", {
    "cross-encoder/ms-marco-MiniLM-L6-v2": fixture("bert-cross-encoder"),
  });
  const scratch = ctx.dir;

  it("a Hub id with an onnx/ folder is downloaded and served (a cross-encoder reranks)", async () => {
    const [serve] = commands(docBlock("README.md", "serve-hub"));
    const s = await startServe(serve!, { env: ctx.env() });
    try {
      expect(ctx.hub().paths).toContain(
        "/cross-encoder/ms-marco-MiniLM-L6-v2/resolve/c0ffee0000000000000000000000000000000000/onnx/model.onnx",
      );
      const res = await postJson(`${s.url}/rerank`, { query: "a cat", documents: ["a cat", "x"] });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    } finally {
      await s.stop();
    }
  });

  it("a folder as Optimum's exporter writes it (model.onnx at the top) is served", async () => {
    const [exportLine, serve] = commands(docBlock("README.md", "optimum"));
    expect(exportLine).toMatch(/^optimum-cli export onnx --model \S+ my-model-onnx\/$/);
    const folder = join(scratch, "my-model-onnx");
    cpSync(fixture("bert-embed-mean"), folder, { recursive: true });
    renameSync(join(folder, "onnx", "model.onnx"), join(folder, "model.onnx"));
    rmSync(join(folder, "onnx"), { recursive: true });
    const s = await startServe(substitute(serve!, { "my-model-onnx/": `${folder}/` }));
    try {
      const res = await postJson(`${s.url}/v1/embeddings`, { input: "a cat" });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    } finally {
      await s.stop();
    }
  });
});
