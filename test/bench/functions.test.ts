import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { runSh } from "../docs/blocks.js";
import { benchUnavailable } from "../helpers/bench.js";
import { requireBundles } from "../helpers/functions.js";
import { ROOT } from "../helpers/server.js";

// docs/performance.md's functions benchmark (`npm run bench:functions`), rehearsed small: one
// round on the ~4 MB model, no warm requests, no packaging. It runs and prints each figure next to
// its goal; the figures themselves come from full runs (tests never depend on timing).
describe("bench/functions.ts", () => {
  it("npm run bench:functions builds the functions, then runs the bench", async () => {
    const pkg = await runSh("npm pkg get scripts.bench:functions", { cwd: ROOT });
    expect(JSON.parse(pkg.stdout)).toBe(
      "npm run build:functions && node --import tsx bench/functions.ts",
    );
  });

  // docs/performance.md names both: `npm run bench:functions` and `-- --mapped-weights`.
  it.skipIf(benchUnavailable !== null).each([
    ["defaults", [] as string[]],
    ["--mapped-weights", ["--mapped-weights"]],
  ])(
    "%s: the cold start's figures next to their goals",
    async (_name, extra) => {
      requireBundles(["embeddings"]);
      const args = ["--import", "tsx", "bench/functions.ts", "--runs", "1", "--models", "tiny-4mb"];
      const out = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, [...args, ...extra, "--skip-warm", "--skip-package"], {
          cwd: ROOT,
          stdio: ["ignore", "ignore", "pipe"],
        });
        let stderr = "";
        p.stderr.on("data", (c: Buffer) => {
          stderr += c.toString();
        });
        p.once("close", (code) => resolve({ code, stderr }));
      });
      expect(out.code, out.stderr).toBe(0);
      const lines = out.stderr.split("\n");
      const head = lines.find((l) => l.includes("cold start, tiny-4mb (4.1 MB):"));
      expect(head, out.stderr).toBeDefined();
      expect(head).toMatch(/floor \d+ ms, ratio \d+\.\d\d \(goal ≤ 1\.2: (met|MISSED)\)/);
      expect(head).toMatch(/import \d+ ms \(goal ≤ 80: (met|MISSED)\)/);
      expect(head).toMatch(/load average \d+\.\d → \d+\.\d/);
      const phases = lines.find((l) => l.includes("function phases (median ms):"));
      for (const p of [
        "import",
        "fetch",
        "verify",
        "tokenizer",
        "session",
        "first_run",
        "answer",
      ]) {
        expect(phases).toMatch(new RegExp(`\\b${p} \\d+`));
      }
      expect(lines.some((l) => /floor steps \(median ms\): import \d+, tokenizer/.test(l))).toBe(
        true,
      );
      expect(lines.some((l) => /compile cache shipped; without it: import \d+ ms/.test(l))).toBe(
        true,
      );
    },
    240_000,
  );
});
