import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture } from "../helpers/fixtures.js";
import { type HubStandIn, hubStandIn } from "../helpers/hub.js";
import { freePort, S3_ENV, type S3Server, startS3 } from "../helpers/s3.js";
import { ROOT } from "../helpers/server.js";
import { commands, docBlock, postJson, runSh, startServe, substitute } from "./blocks.js";

const scratch = mkdtempSync(join(tmpdir(), "edgepool-docs-"));
let hub: HubStandIn;
beforeAll(async () => {
  hub = await hubStandIn({ "sentence-transformers/all-MiniLM-L6-v2": fixture("bert-embed-mean") });
});
afterAll(async () => {
  await hub?.close();
  rmSync(scratch, { recursive: true, force: true });
});

const torch = (() => {
  try {
    execFileSync("/usr/bin/python3", ["-c", "import torch, onnx, numpy"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!torch)("docs/architecture.md: regenerating a fixture", () => {
  it("the packages are installed, and the generator reproduces the committed fixture", async () => {
    const [install, all, one] = commands(docBlock("docs/architecture.md", "fixtures"));
    const packages = install!.replace("apt-get install -y ", "").split(" ");
    const dpkg = await runSh(
      `dpkg -s ${packages.join(" ")} | grep -c '^Status: install ok installed'`,
    );
    expect(dpkg.stdout.trim()).toBe(String(packages.length));
    expect(one!.startsWith(`${all} `)).toBe(true);
    // The generator writes beside itself: run a copy, so the committed fixtures stay as they are.
    const copy = join(scratch, "repo");
    mkdirSync(join(copy, "test", "fixtures"), { recursive: true });
    cpSync(join(ROOT, "test", "fixtures", "generate.py"), join(copy, "test/fixtures/generate.py"));
    const r = await runSh(one!, { cwd: copy });
    expect(r.code, r.stderr).toBe(0);
    const name = one!.split(" ").at(-1)!;
    for (const file of ["onnx/model.onnx", "golden.json", "config.json", "tokenizer.json"]) {
      expect(readFileSync(join(copy, "test/fixtures/models", name, file)), file).toEqual(
        readFileSync(join(fixture(name), file)),
      );
    }
  });
});

describe("docs/server.md: several models in one process", () => {
  it("each request goes to the model it names; /v1/models lists both with their memory", async () => {
    const dir = join(scratch, "several");
    cpSync(fixture("bert-embed-mean"), join(dir, "bge-small"), { recursive: true });
    cpSync(fixture("bert-cross-encoder"), join(dir, "ms-marco-MiniLM"), { recursive: true });
    const code = substitute(docBlock("docs/server.md", "several-models"), {
      "./bge-small": join(dir, "bge-small"),
      "./ms-marco-MiniLM": join(dir, "ms-marco-MiniLM"),
    });
    const s = await startServe(commands(code)[0]!);
    try {
      const models = (await (await fetch(`${s.url}/v1/models`)).json()) as {
        data: { id: string; memory: { onnx_bytes: number; rss_delta_bytes: number } }[];
      };
      expect(models.data.map((m) => m.id)).toEqual(["embed", "rerank"]);
      for (const m of models.data) expect(m.memory.rss_delta_bytes).toBeGreaterThan(0);
      const embed = await postJson(`${s.url}/v1/embeddings`, { model: "embed", input: "a cat" });
      expect(embed.status).toBe(200);
      const rerank = await postJson(`${s.url}/rerank`, {
        model: "rerank",
        query: "a cat",
        documents: ["a cat", "x"],
      });
      expect(rerank.status).toBe(200);
    } finally {
      await s.stop();
    }
  });
});

describe("docs/cli.md", () => {
  it("embed prints the vectors; --help its flags", async () => {
    const [embed, help] = commands(docBlock("docs/cli.md", "embed"));
    const r = await runSh(embed!);
    expect(r.code, r.stderr).toBe(0);
    const vectors = JSON.parse(r.stdout) as number[][];
    expect(vectors).toHaveLength(2);
    expect(vectors[0]).toHaveLength(32);
    const h = await runSh(help!);
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).toContain("Usage: edgepool embed");
  });

  it("quantize writes the int8 graph, which serve loads with --dtype q8", async () => {
    const out = join(scratch, "models", "minilm");
    const code = substitute(docBlock("docs/cli.md", "quantize"), { "models/minilm": out });
    const [quantize, serve] = commands(code);
    const env = { HF_ENDPOINT: hub.endpoint, EDGEPOOL_CACHE_DIR: join(scratch, "cache-q") };
    const q = await runSh(quantize!, { env });
    expect(q.code, q.stderr).toBe(0);
    expect(existsSync(join(out, "onnx", "model_quantized.onnx"))).toBe(true);
    const s = await startServe(serve!, { env });
    try {
      const res = await postJson(`${s.url}/v1/embeddings`, { input: "a cat" });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    } finally {
      await s.stop();
    }
  });
});

describe("docs/models.md: pin, verify and serve from a bucket", () => {
  let s3: S3Server;
  beforeAll(async () => {
    s3 = await startS3(join(scratch, "s3"), await freePort(), "my-bucket");
  });
  afterAll(async () => {
    await s3?.kill();
  });

  it("pins the Hub model to the bucket, verifies it, and serves the printed URI", async () => {
    const lines = commands(docBlock("docs/models.md", "pin"));
    const serve = lines.pop()!;
    const env = {
      ...S3_ENV,
      AWS_ENDPOINT_URL: s3.endpoint,
      HF_ENDPOINT: hub.endpoint,
      EDGEPOOL_CACHE_DIR: join(scratch, "cache-pin"),
    };
    const r = await runSh(lines.join("\n"), { env });
    expect(r.code, r.stderr).toBe(0);
    const uri = r.stdout.trim().split("\n")[0]!;
    expect(uri).toMatch(/^s3:\/\/my-bucket\/models\/all-MiniLM-L6-v2\/[0-9a-f]{64}$/);
    const s = await startServe(serve, {
      env: { ...env, URI: uri, EDGEPOOL_CACHE_DIR: join(scratch, "cache-serve") },
    });
    try {
      const res = await postJson(`${s.url}/v1/embeddings`, { input: "a cat" });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    } finally {
      await s.stop();
    }
  });
});
