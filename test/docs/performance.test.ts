import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { benchUnavailable } from "../helpers/bench.js";
import { ROOT } from "../helpers/server.js";
import { commands, docBlock, runSh } from "./blocks.js";

// docs/performance.md's bench commands, each run once with its smallest arguments (a second of
// load, one round): they start, load the model the benches build, and print their figures. The
// figures themselves come from full runs on a quiet machine; tests never depend on timing.
const SMALL: Record<string, string> = {
  "bench/ab.ts": "--c 4 --rounds 1 --seconds 1",
  "bench/profile.ts": "--concurrency 4 --seconds 1",
  "bench/memory-sweep.ts": "--budgets 512 --arena on --seconds 1 --lone-first 2 --smaps",
  "bench/fairness.ts": "--inputs 4 --tokens 64 --clients 1 --idle-seconds 1",
  "bench/encodings.ts": "--rounds 2",
};

describe("docs/performance.md: the bench commands", { timeout: 600_000 }, () => {
  const lines = commands(docBlock("docs/performance.md", "benches"));

  it("the packages the benches need are installed", async () => {
    const install = lines.find((l) => l.startsWith("apt-get install -y "))!;
    const packages = install.replace("apt-get install -y ", "").split(" ");
    const r = await runSh(
      `dpkg -s ${packages.join(" ")} | grep -c '^Status: install ok installed'`,
    );
    expect(r.stdout.trim()).toBe(String(packages.length));
  });

  it("npm run bench is the bench runner, then the functions' bench", async () => {
    expect(lines).toContain("npm run bench");
    const pkg = await runSh("npm pkg get scripts.bench");
    expect(JSON.parse(pkg.stdout)).toBe(
      "npm run build && node --import tsx bench/run.ts && npm run bench:functions",
    );
  });

  const benches = lines.filter((l) => l.startsWith("node --import tsx bench/"));
  it("every node bench line has a small form here", () => {
    expect(benches.length).toBeGreaterThan(3);
    for (const l of benches) expect(Object.keys(SMALL), l).toContain(l.split(" ")[3]);
  });

  it.skipIf(benchUnavailable !== null).each(benches)("%s", async (line) => {
    const r = await runSh(`${line} ${SMALL[line.split(" ")[3]!]}`);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout.trim().length).toBeGreaterThan(0);
  });

  // The page's prose names bench commands too: each script it names runs in its small form
  // (bench/run.ts is `npm run bench`'s runner, above).
  const page = readFileSync(join(ROOT, "docs", "performance.md"), "utf8");
  const inline = [
    ...new Set(
      [...page.matchAll(/`node --import tsx (bench\/[\w-]+\.ts)[^`]*`/g)].map((m) => m[1]!),
    ),
  ].filter((s) => s !== "bench/run.ts" && !benches.some((l) => l.split(" ")[3] === s));
  it.skipIf(benchUnavailable !== null).each(inline)("%s (named in the text)", async (script) => {
    expect(Object.keys(SMALL)).toContain(script);
    const r = await runSh(`node --import tsx ${script} ${SMALL[script]}`);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout.trim().length).toBeGreaterThan(0);
  });
});
