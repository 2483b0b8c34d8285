import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { commands, docBlock } from "../docs/blocks.js";
import { fixture } from "../helpers/fixtures.js";
import { hubStandIn } from "../helpers/hub.js";
import { ROOT } from "../helpers/server.js";
import { rehearseDockerfile, type StageRun } from "./dockerfile.js";

// Each Dockerfile's build, rehearsed without a Docker engine (none runs here): the exact files
// it copies and its build steps, run in a scratch folder; then the image's entry point answers.
const scratch = mkdtempSync(join(tmpdir(), "edgepool-docker-"));
const cache = new Map<string, string>();
// npm takes packages from its cache when it has them (the registry otherwise), as a warm builder would.
const env = { npm_config_prefer_offline: "true", npm_config_update_notifier: "false" };
afterAll(() => rm(scratch, { recursive: true, force: true }), 120_000);

const ORT = "node_modules/onnxruntime-node/bin/napi-v6";

function embedWith(stage: StageRun, extra: string[] = []): number[][] {
  const app = join(stage.root, stage.workdir);
  const out = execFileSync(
    process.execPath,
    ["dist/cli/main.js", "embed", "--model", fixture("bert-embed-mean"), ...extra, "a cat"],
    {
      cwd: app,
      encoding: "utf8",
      env: { ...process.env, EDGEPOOL_CACHE_DIR: join(scratch, "cache") },
    },
  );
  return JSON.parse(out.trim().split("\n").at(-1)!) as number[][];
}

describe("Dockerfile (CPU), rehearsed", { timeout: 600_000 }, () => {
  let stages: StageRun[];
  it("copies what the build needs and runs its build steps: build tools, npm ci, the CLI bundle, this platform's ONNX Runtime", () => {
    stages = rehearseDockerfile("Dockerfile", { scratch: join(scratch, "cpu"), env, cache });
    const build = stages.find((s) => s.name === "build")!;
    // The tools, the locked production dependencies, the CLI bundle, the platform's binaries.
    expect(build.ran.map((r) => r.split(/\s+/).slice(0, 2).join(" "))).toEqual([
      "echo '{\"private\":true}'",
      "npm ci",
      "node --import",
      'case "$TARGETARCH"',
    ]);
    const app = join(build.root, "build", "app");
    expect(existsSync(join(app, "dist/cli/main.js"))).toBe(true);
    expect(readdirSync(join(app, ORT))).toEqual(["linux"]);
    expect(readdirSync(join(app, ORT, "linux"))).toEqual(["x64"]);
    // Production dependencies only.
    expect(existsSync(join(app, "node_modules/typescript"))).toBe(false);
  });

  it("the final image's files alone answer: `edgepool embed` from its dist/ and node_modules", () => {
    const final = stages.at(-1)!;
    expect(final.skipped.map((s) => s.why)).toEqual([
      "the image's /cache, a system path (as root)",
    ]);
    expect(embedWith(final)[0]).toHaveLength(32);
  });

  it("the README's `docker run` serves: the image's entry point and command, with its -e variables", async () => {
    const [build, run] = commands(docBlock("README.md", "docker"));
    expect(build).toBe("docker build -t edgepool .");
    // docker run [flags] IMAGE [ARGS]: the flags this command uses, then the image's name.
    const words = run!.split(/\s+/);
    expect(words.slice(0, 2)).toEqual(["docker", "run"]);
    const vars: Record<string, string> = {};
    let i = 2;
    for (; words[i]!.startsWith("-"); i++) {
      if (words[i] === "-e") {
        const [k, ...v] = words[++i]!.split("=");
        vars[k!] = v.join("=");
      } else if (words[i] === "-p" || words[i] === "-v") i++;
    }
    expect(words[i]).toBe("edgepool");
    const args = words.slice(i + 1);
    // The final stage's ENTRYPOINT and CMD (exec form), and its ENV.
    const text = readFileSync(join(ROOT, "Dockerfile"), "utf8");
    const final = text.slice(text.lastIndexOf("\nFROM "));
    const json = (kw: string) => JSON.parse(new RegExp(`\\n${kw} (\\[.*\\])`).exec(final)![1]!);
    const [node, ...entry] = json("ENTRYPOINT") as string[];
    expect(node).toBe("node");
    const argv = [...entry, ...(args.length > 0 ? args : (json("CMD") as string[]))];
    expect(argv.slice(-4)).toEqual(["--host", "0.0.0.0", "--port", "8080"]);
    // The container's port on a free port of 127.0.0.1; its /cache volume in the scratch folder.
    argv.splice(-4, 4, "--host", "127.0.0.1", "--port", "0");
    const hub = await hubStandIn({
      [vars.EDGEPOOL_MODEL_URI!]: fixture("bert-embed-mean"),
    });
    const stage = stages.at(-1)!;
    const server = spawn(process.execPath, argv, {
      cwd: join(stage.root, stage.workdir),
      env: {
        ...process.env,
        NODE_ENV: "production",
        ...vars,
        EDGEPOOL_CACHE_DIR: join(scratch, "docker-run-cache"),
        HF_ENDPOINT: hub.endpoint,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let log = "";
      server.stdout.on("data", (c: Buffer) => (log += c.toString()));
      server.stderr.on("data", (c: Buffer) => (log += c.toString()));
      await expect
        .poll(() => log, { timeout: 60_000, interval: 100 })
        .toMatch(/"msg":"model ready"/);
      const port = /"url":"http:\/\/[^"]*:(\d+)"/.exec(log)![1];
      const res = await fetch(`http://127.0.0.1:${port}/v1/embeddings`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ input: "a cat" }),
      });
      expect(res.status, log).toBe(200);
      expect(hub.paths.some((p) => p.endsWith("/onnx/model.onnx"))).toBe(true);
    } finally {
      server.kill("SIGTERM");
      await new Promise((r) => server.once("close", r));
      await hub.close();
    }
  });

  it("an arm64 build keeps the linux/arm64 binaries, and an unknown platform stops the build", () => {
    // The platform step of the build stage, run over ONNX Runtime's folders for each TARGETARCH.
    const build = stages.find((s) => s.name === "build")!;
    const step = build.ran.at(-1)!;
    const run = (arch: string) => {
      const dir = mkdtempSync(join(scratch, `arch-${arch}-`));
      for (const p of ["darwin/arm64", "win32/x64", "linux/x64", "linux/arm64"]) {
        mkdirSync(join(dir, ORT, p), { recursive: true });
      }
      const res = spawnSync("sh", ["-c", step], {
        cwd: dir,
        env: { TARGETARCH: arch },
        encoding: "utf8",
      });
      return {
        status: res.status,
        err: res.stderr,
        left: () => readdirSync(join(dir, ORT, "linux")),
      };
    };
    expect(run("arm64").left()).toEqual(["arm64"]);
    expect(run("amd64").left()).toEqual(["x64"]);
    const bad = run("s390x");
    expect(bad.status).not.toBe(0);
    expect(bad.err).toContain("linux/amd64 or linux/arm64, not s390x");
  });
});

describe("Dockerfile.gpu, rehearsed", { timeout: 600_000 }, () => {
  it("refuses to build without the CUDA provider package's sha256", () => {
    const stages = rehearseDockerfile("Dockerfile.gpu", {
      scratch: join(scratch, "gpu-nosha"),
      env,
      cache,
      expectFailure: {
        pattern: /ORT_GPU_NUPKG_SHA256/,
        output: /pass --build-arg ORT_GPU_NUPKG_SHA256=/,
      },
    });
    expect(stages.at(-1)!.name).toBe("build");
  });

  it("copies what the build needs and runs its build steps; the final image's files answer", () => {
    const stages = rehearseDockerfile("Dockerfile.gpu", {
      scratch: join(scratch, "gpu"),
      env,
      cache,
      buildArgs: { ORT_GPU_NUPKG_SHA256: "0".repeat(64) },
    });
    const build = stages.find((s) => s.name === "build")!;
    expect(build.skipped.map((s) => s.why)).toEqual([
      "system packages of the base image (apt-get, as root)",
      "a download from api.nuget.org (not reachable here), checked with sha256sum -c",
    ]);
    const app = join(build.root, "build", "app");
    expect(existsSync(join(app, "dist/cli/main.js"))).toBe(true);
    expect(readdirSync(join(app, ORT, "linux"))).toEqual(["x64"]);
    const final = stages.at(-1)!;
    expect(final.fromBaseImage).toEqual(["node:/usr/local/bin/node"]);
    // Without the CUDA libraries (not downloaded here), --device auto answers from the CPU.
    expect(embedWith(final, ["--device", "auto"])[0]).toHaveLength(32);
  });
});
