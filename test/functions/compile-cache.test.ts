import { execFileSync, spawnSync } from "node:child_process";
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OUT_DIR } from "../../scripts/build-functions.js";
import { COMPILE_CACHE_DIR, LAMBDA_NODE_FLAGS, LAMBDA_UID } from "../../scripts/compile-cache.js";
import { fixture } from "../helpers/fixtures.js";
import { requireBundles } from "../helpers/functions.js";

const ROOT = join(import.meta.dirname, "..", "..");
const ONCE = join(ROOT, "bench", "function-cold.mjs");

interface Start {
  answer: { status: number; body: string };
  coldStart: { compile_cache: string; phases: Record<string, number> };
  /** Node's compile cache report (NODE_DEBUG_NATIVE=COMPILE_CACHE). */
  debug: string;
}

/** One cold start of the packaged function at `task` (a copy of the zip's layout), as a new process. */
function coldStart(task: string, flags: string[], wrap: string[] = []): Start {
  const entry = join(task, "dist", "functions", "embeddings", "index.js");
  const argv = [...wrap, process.execPath, ...flags, ONCE, entry];
  const res = spawnSync(argv[0]!, argv.slice(1), {
    encoding: "utf8",
    env: {
      PATH: process.env.PATH,
      AWS_LAMBDA_FUNCTION_NAME: "edgepool-embeddings",
      EDGEPOOL_MODEL_URI: fixture("bert-embed-mean"),
      EDGEPOOL_LOG_LEVEL: "info",
      NODE_DEBUG_NATIVE: "COMPILE_CACHE",
    },
  });
  expect(res.status, res.stderr).toBe(0);
  const lines = res.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));
  const answer = lines.find((l) => "answer" in l)?.answer;
  const cold = lines.find((l) => l.msg === "cold start");
  expect(answer, res.stdout).toBeDefined();
  expect(cold, res.stdout).toBeDefined();
  return { answer, coldStart: cold, debug: res.stderr };
}

/** An answer without its request id and time: what must not depend on the cache. */
const content = (body: string) => {
  const { id: _id, created: _created, ...rest } = JSON.parse(body) as Record<string, unknown>;
  return rest;
};

/** The compile cache's folders for this Node (any V8 flags and user). */
const tags = (task: string) =>
  readdirSync(join(task, "dist", "functions", "embeddings", COMPILE_CACHE_DIR));

/** Can this process mount a read-only view of a folder (root, with mount namespaces)? */
function canMountReadOnly(): boolean {
  return spawnSync("unshare", ["-m", "true"]).status === 0 && process.getuid?.() === 0;
}

describe("the compile cache shipped with a function", () => {
  let work: string;
  let task: string;
  let reference: string;

  /**
   * The zip's layout as built: dist/functions/embeddings/ beside ONNX Runtime's JavaScript in
   * node_modules/ (copied: a linked folder would resolve elsewhere; its binaries are linked).
   */
  const unpack = (name: string) => {
    const dir = join(work, name);
    const copy = (from: string, to = from) =>
      cpSync(join(ROOT, from), join(dir, to), { recursive: true });
    copy(join("dist", "functions", "embeddings"));
    for (const f of ["package.json", "dist"]) copy(join("node_modules", "onnxruntime-node", f));
    for (const f of ["package.json", join("dist", "cjs")]) {
      copy(join("node_modules", "onnxruntime-common", f));
    }
    symlinkSync(
      join(ROOT, "node_modules", "onnxruntime-node", "bin"),
      join(dir, "node_modules", "onnxruntime-node", "bin"),
    );
    return dir;
  };

  beforeAll(() => {
    requireBundles(["embeddings"]);
    work = mkdtempSync(join(tmpdir(), "edgepool-cc-"));
    task = unpack("task");
    // The answer without any cache: the function module imported directly.
    const entry = join(task, "dist", "functions", "embeddings", "function.js");
    const out = execFileSync(process.execPath, [ONCE, entry], {
      encoding: "utf8",
      env: { PATH: process.env.PATH, EDGEPOOL_MODEL_URI: fixture("bert-embed-mean") },
    });
    reference = JSON.parse(out.split("\n").find((l) => l.startsWith('{"bench"'))!).answer.body;
    expect(JSON.parse(reference).data).toHaveLength(1);
  }, 60_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("is made for this Node with Lambda's V8 flags, as this user and as Lambda's", () => {
    const names = tags(task);
    const mine = names.find((t) => t.endsWith(`-${process.getuid?.()}`));
    expect(mine, names.join(", ")).toMatch(
      new RegExp(`^${process.version}-${process.arch}-[0-9a-f]{8}-\\d+$`),
    );
    expect(names).toContain(mine!.replace(/-\d+$/, `-${LAMBDA_UID}`));
  });

  it("is read by a Node started as Lambda starts it, moved elsewhere, and the answer is the same", () => {
    const start = coldStart(task, LAMBDA_NODE_FLAGS);
    expect(start.coldStart.compile_cache).toBe("shipped");
    // V8 took the shipped code for the function and for ONNX Runtime's JavaScript, none refused.
    expect(start.debug).toMatch(/ESM \S+\/function\.js was accepted/);
    expect(start.debug).toMatch(/CommonJS \S+onnxruntime-node\S+ was accepted/);
    expect(start.debug).not.toMatch(/was (rejected|not initialized)/);
    expect(start.answer.status).toBe(200);
    expect(content(start.answer.body)).toEqual(content(reference));
  });

  it("is left alone outside a function's environment: nothing read, nothing written", () => {
    const copy = unpack("not-a-function");
    const entry = join(copy, "dist", "functions", "embeddings", "index.js");
    const out = execFileSync(process.execPath, ["--stack-size=900", ONCE, entry], {
      encoding: "utf8",
      env: { PATH: process.env.PATH, EDGEPOOL_MODEL_URI: fixture("bert-embed-mean") },
    });
    const answer = JSON.parse(out.split("\n").find((l) => l.startsWith('{"bench"'))!).answer;
    expect(content(answer.body)).toEqual(content(reference));
    expect(tags(copy).sort()).toEqual(
      readdirSync(join(OUT_DIR, "embeddings", COMPILE_CACHE_DIR)).sort(),
    );
  });

  it("is ignored by another Node (other V8 flags, another version): same answer", () => {
    // Other flags: this Node's folder for them is missing, and made empty.
    const other = coldStart(task, ["--stack-size=900"]);
    expect(other.coldStart.compile_cache).toBe("empty");
    expect(content(other.answer.body)).toEqual(content(reference));
    // Another version: the shipped folders renamed as if made by one.
    const copy = unpack("other-version");
    const root = join(copy, "dist", "functions", "embeddings", COMPILE_CACHE_DIR);
    for (const t of readdirSync(root)) {
      renameSync(join(root, t), join(root, t.replace(/^v[\d.]+/, "v0.0.1")));
    }
    const start = coldStart(copy, LAMBDA_NODE_FLAGS);
    expect(start.coldStart.compile_cache).toBe("empty");
    expect(content(start.answer.body)).toEqual(content(reference));
  });

  it("is rejected when damaged: same answer, no crash", () => {
    const copy = unpack("damaged");
    const root = join(copy, "dist", "functions", "embeddings", COMPILE_CACHE_DIR);
    for (const t of readdirSync(root)) {
      for (const f of readdirSync(join(root, t))) {
        const bytes = readFileSync(join(root, t, f));
        for (let i = 24; i < bytes.length; i += 97) bytes[i] = bytes[i]! ^ 0xff;
        writeFileSync(join(root, t, f), bytes);
      }
    }
    const start = coldStart(copy, LAMBDA_NODE_FLAGS);
    expect(start.coldStart.compile_cache).toBe("shipped");
    expect(start.debug).toMatch(/cache hash mismatch/);
    expect(content(start.answer.body)).toEqual(content(reference));
  });

  it("in a read-only package: read when it is this Node's, off (not an error) when not", () => {
    const copy = unpack("read-only");
    const pkg = join(copy, "dist");
    // Lambda's /var/task is read-only: Node can neither make a folder for another Node's cache
    // nor write new entries at exit.
    const readOnly = canMountReadOnly()
      ? ["unshare", "-m", "sh", "-c", `mount --bind -o ro "${pkg}" "${pkg}" && exec "$@"`, "sh"]
      : null;
    if (!readOnly) {
      // Without a mount namespace: a file where the cache folder would be is as unwritable.
      const root = join(pkg, "functions", "embeddings", COMPILE_CACHE_DIR);
      rmSync(root, { recursive: true });
      writeFileSync(root, "");
      const start = coldStart(copy, LAMBDA_NODE_FLAGS);
      expect(start.coldStart.compile_cache).toBe("off");
      expect(content(start.answer.body)).toEqual(content(reference));
      return;
    }
    const shipped = coldStart(copy, LAMBDA_NODE_FLAGS, readOnly);
    expect(shipped.coldStart.compile_cache).toBe("shipped");
    expect(content(shipped.answer.body)).toEqual(content(reference));
    const other = coldStart(copy, ["--stack-size=900"], readOnly);
    expect(other.coldStart.compile_cache).toBe("off");
    expect(content(other.answer.body)).toEqual(content(reference));
    // Nothing was written into the package.
    expect(tags(copy).sort()).toEqual(
      readdirSync(join(OUT_DIR, "embeddings", COMPILE_CACHE_DIR)).sort(),
    );
  });
});
