import { execFile, spawn } from "node:child_process";
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

  it("edgepool serve stopped (SIGTERM) as soon as it listens exits 0, the session closed", async () => {
    // The signal usually arrives while the session is still being created: an exit then used to
    // abort natively (exit 134) because only a ready engine was closed.
    const proc = spawn(
      process.execPath,
      [BIN, "serve", "--model", fixture("bge-m3"), "--port", "0", "--host", "127.0.0.1"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    proc.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    proc.stdout.on("data", (c: Buffer) => {
      if (c.toString().includes('"listening"')) proc.kill("SIGTERM");
    });
    const exit = await new Promise<{ code: number | null; signal: string | null }>((r) =>
      proc.once("exit", (code, signal) => r({ code, signal })),
    );
    expect(stderr).not.toContain("terminate called");
    expect(exit).toEqual({ code: 0, signal: null });
  });
});
