import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { docBlock } from "../docs/blocks.js";
import { runCli, runUntilReady } from "../helpers/cli.js";
import { fixture } from "../helpers/fixtures.js";
import { BIN } from "../helpers/server.js";

// docs/cli.md's command lines (its blocks but embed and quantize, which test/docs/docs.test.ts
// runs) run here, from a fresh folder; a `# edgepool …` line after a command is what it must
// print on stderr.
const work = mkdtempSync(join(tmpdir(), "edgepool-cli-docs-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const PLACES: Record<string, string> = { "./bge-small-en-v1.5": fixture("xlmr-embed") };
const ENV = { EDGEPOOL_STORE: "", DATABASE_URL: "", HF_ENDPOINT: "http://127.0.0.1:9" };

interface Step {
  args: string[];
  stderr: string[];
}

/** A block's command lines, each with the stderr lines shown after it (`# edgepool …`). */
function steps(code: string): Step[] {
  const out: Step[] = [];
  for (const line of code.trimEnd().split("\n")) {
    if (line.startsWith("# edgepool")) out.at(-1)!.stderr.push(line.slice(2));
    else if (!line.startsWith("#")) {
      const command = line.replace(/\s+#.*$/, "").replace(/^npx /, "");
      const words = [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
      expect(words[0]).toBe("edgepool");
      out.push({ args: words.slice(1).map((w) => PLACES[w] ?? w), stderr: [] });
    }
  }
  return out;
}

/** One step, from `cwd` (the README's paths are the repository's; docs/cli.md's a fresh folder). */
async function run(step: Step, cwd: string): Promise<void> {
  const what = step.args.join(" ");
  if (step.args[0] === "serve" && !step.args.includes("--help") && step.stderr.length === 0) {
    const r = await runUntilReady([process.execPath, BIN, ...step.args], { cwd, env: ENV });
    expect({ code: r.code, ready: r.ready }, `${what}: ${r.stderr}`).toEqual({
      code: 0,
      ready: true,
    });
    return;
  }
  const r = await runCli(step.args, ENV, 30_000, cwd);
  if (step.stderr.length === 0) {
    expect(r.code, `${what}: ${r.stderr}`).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(0);
    return;
  }
  expect(r.stderr.trimEnd().split("\n"), what).toEqual(step.stderr);
  if (!step.stderr[0]!.includes("created a new")) expect(r.code, what).not.toBe(0);
}

describe("docs/cli.md runs", () => {
  it.each([
    ["help", () => docBlock("docs/cli.md", "help"), 3],
    ["vllm", () => docBlock("docs/cli.md", "vllm"), 1],
    ["errors", () => docBlock("docs/cli.md", "errors"), 3],
    ["stores", () => docBlock("docs/cli.md", "stores"), 3],
  ])(
    "%s",
    async (_, block, count) => {
      const all = steps(block());
      expect(all).toHaveLength(count);
      for (const step of all) await run(step, work);
    },
    60_000,
  );
});
