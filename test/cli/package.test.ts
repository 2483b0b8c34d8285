import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { fixture } from "../helpers/fixtures.js";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "dist", "cli", "main.js");

describe("package surface (built dist)", () => {
  it("exports LLM from the package root, as a user imports it", async () => {
    const script = `
      import { LLM } from "edgepool";
      const llm = await LLM.load({ model: ${JSON.stringify(fixture("bert-embed-mean"))} });
      const [r] = await llm.embed(["a cat"]);
      console.log(JSON.stringify({ tasks: llm.supportedTasks, n: r.outputs.embedding.length, ids: r.promptTokenIds }));
      await llm.close();`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
      cwd: ROOT,
    });
    const out = JSON.parse(stdout);
    expect(out.tasks).toEqual(["embed", "token_embed", "score"]);
    expect(out.n).toBe(32);
    expect(out.ids[0]).toBe(2);
  });

  it("edgepool embed prints the vectors as JSON", async () => {
    const { stdout } = await run(process.execPath, [
      BIN,
      "embed",
      "--model",
      fixture("xlmr-embed"),
      "--dimensions",
      "8",
      "hello world",
      "a cat",
    ]);
    const vectors = JSON.parse(stdout) as number[][];
    expect(vectors).toHaveLength(2);
    expect(vectors[0]).toHaveLength(8);
  });

  it("edgepool embed explains bad flags with exit code 2", async () => {
    const err = await run(process.execPath, [BIN, "embed", "--model", "/nonexistent", "x"]).catch(
      (e) => e,
    );
    expect(err.code).toBe(2);
    expect(err.stderr).toContain("does not exist");
    const help = await run(process.execPath, [BIN, "embed", "--help"]);
    expect(help.stdout).toContain("--pooler-config");
  });

  it.each([
    ["--payload-limit", "lots"],
    ["--max-response-bytes", "-1"],
    ["--store", "mysql://nowhere"],
    ["--mapped-weights", "maybe"],
  ])(
    "edgepool serve exits 2 on a bad %s, also once the session has started loading",
    async (flag, value) => {
      const err = await run(
        process.execPath,
        [BIN, "serve", "--model", fixture("bert-embed-mean"), "--port", "0", flag, value],
        { timeout: 30_000 },
      ).catch((e) => e);
      expect(err.killed).toBe(false);
      expect(err.code).toBe(2);
      expect(err.stderr).toContain(flag.replace(/^--/, ""));
    },
  );

  it.each([
    ["as soon as it listens", '"listening"', []],
    ["before it listens (while the model loads)", "wrote a copy of the graph", []],
    ["while a second model loads", '"model loaded"', ["--model", fixture("bert-embed-mean")]],
  ])(
    "edgepool serve stopped (SIGTERM) %s exits 0, the sessions closed",
    async (_when, line, more) => {
      // A fresh cache: the first start writes the mapped-weights copy, and says so before listening.
      // Once used to fail: an exit while the session was created aborted natively (exit 134), and a
      // signal before the handler was installed (right after the listening line) killed the process.
      const cacheDir = mkdtempSync(join(tmpdir(), "edgepool-sigterm-"));
      const proc = spawn(
        process.execPath,
        [
          BIN,
          "serve",
          "--model",
          fixture("bge-m3"),
          "--port",
          "0",
          "--host",
          "127.0.0.1",
          "--cache-dir",
          cacheDir,
          ...more,
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let stderr = "";
      let stdout = "";
      proc.stderr.on("data", (c: Buffer) => {
        stderr += c.toString();
      });
      let sent = false;
      proc.stdout.on("data", (c: Buffer) => {
        stdout += c.toString();
        if (!sent && stdout.includes(line)) sent = proc.kill("SIGTERM");
      });
      const exit = await new Promise<{ code: number | null; signal: string | null }>((r) =>
        proc.once("exit", (code, signal) => r({ code, signal })),
      );
      rmSync(cacheDir, { recursive: true, force: true });
      expect(stdout).toContain(line);
      expect(stderr).not.toContain("terminate called");
      expect(exit).toEqual({ code: 0, signal: null });
    },
  );
});
