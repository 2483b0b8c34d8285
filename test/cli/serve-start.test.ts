import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, runUntilReady } from "../helpers/cli.js";
import { editedFixture, fixture } from "../helpers/fixtures.js";
import { ROOT } from "../helpers/server.js";

// What `edgepool serve` says as it starts: the `listening` line names what is served (and the
// fallback, and why), and a model that cannot be loaded stops it before it listens.
const work = mkdtempSync(join(tmpdir(), "edgepool-serve-start-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Nothing answers there: a Hub request fails at once, never downloads. */
const NO_HUB = { HF_ENDPOINT: "http://127.0.0.1:9", EDGEPOOL_STORE: "", DATABASE_URL: "" };

type Line = Record<string, unknown> & { msg: string };
const logLines = (stdout: string): Line[] =>
  stdout.split("\n").flatMap((l) => {
    try {
      return [JSON.parse(l) as Line];
    } catch {
      return [];
    }
  });

/** A shell command line until its `model ready` line, then stopped: its log lines. */
async function startAndStop(commandLine: string, env: NodeJS.ProcessEnv): Promise<Line[]> {
  const r = await runUntilReady(["sh", "-c", `exec ${commandLine}`], { env });
  expect({ code: r.code, ready: r.ready }, r.stderr + r.stdout).toEqual({ code: 0, ready: true });
  return logLines(r.stdout);
}

describe("the listening line says what is served", () => {
  it("npm start: the fallback fixture, that it is a fallback, and why", async () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    const cache = mkdtempSync(join(work, "cache-"));
    const lines = await startAndStop(
      `${scripts.start} --host 127.0.0.1 --port 0 --cache-dir ${cache}`,
      NO_HUB,
    );
    const listening = lines.find((l) => l.msg === "listening");
    expect(listening).toBeDefined();
    expect(listening).toMatchObject({
      model: "edgepool-demo",
      loaded: "test/fixtures/models/bert-embed-mean",
    });
    expect(listening!.fallback).toMatch(
      /^serving --fallback-model: sentence-transformers\/all-MiniLM-L6-v2 could not be fetched: .*not in the cache/,
    );
    const ready = lines.find((l) => l.msg === "model ready");
    expect(ready).toMatchObject({ loaded: "test/fixtures/models/bert-embed-mean" });
    expect(lines.findIndex((l) => l.msg === "model loaded")).toBeLessThan(
      lines.indexOf(listening!),
    );
  });

  it("without a fallback, the model folder it loaded and no fallback", async () => {
    const lines = await startAndStop(
      `node dist/cli/main.js serve ${fixture("bert-embed-mean")} --host 127.0.0.1 --port 0`,
      NO_HUB,
    );
    const listening = lines.find((l) => l.msg === "listening");
    expect(listening).toMatchObject({
      model: fixture("bert-embed-mean"),
      loaded: fixture("bert-embed-mean"),
    });
    expect(listening).not.toHaveProperty("fallback");
  });

  it("where a lone small request computes: the event loop, unless --inline-session off", async () => {
    for (const [flags, where] of [
      ["", "event loop"],
      ["--inline-session off", "worker"],
      ["--workers 0", "event loop"],
    ]) {
      const lines = await startAndStop(
        `node dist/cli/main.js serve ${fixture("bert-embed-mean")} --host 127.0.0.1 --port 0 ${flags}`,
        NO_HUB,
      );
      const ready = lines.find((l) => l.msg === "model ready");
      expect(ready, flags).toHaveProperty("loneRequests");
      expect(ready!.loneRequests, flags).toBe(where);
    }
  });
});

describe("a model that cannot be loaded stops serve before it listens", () => {
  const broken = editedFixture("bert-embed-mean", {});
  writeFileSync(join(broken, "onnx", "model.onnx"), "not an ONNX graph");
  afterAll(() => rmSync(broken, { recursive: true, force: true }));

  it.each([
    ["a folder that does not exist", ["--model", join(work, "nope")], 2, /does not exist/],
    ["a Hub id that cannot be fetched", ["--model", "org/not-cached"], 2, /org\/not-cached/],
    ["a graph ONNX Runtime cannot read", ["--model", broken], 2, /Protobuf parsing failed/],
    [
      "a second model that does not exist",
      ["--model", fixture("bert-embed-mean"), "--model", join(work, "second")],
      2,
      /second.*does not exist/,
    ],
  ])("%s: one line on stderr, no listening line", async (_what, args, code, said) => {
    const cache = mkdtempSync(join(work, "cache-"));
    const r = await runCli(
      ["serve", ...args, "--host", "127.0.0.1", "--port", "0", "--cache-dir", cache],
      NO_HUB,
    );
    expect(r.code, r.stderr).toBe(code);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^edgepool serve: /);
    expect(lines[0]).toMatch(said);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    const logged = logLines(r.stdout).map((l) => l.msg);
    expect(logged).toContain("model failed to load");
    expect(logged).not.toContain("listening");
  });
});
