import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/server.js";
import { docBlocks } from "./doc.js";

// docs/deploy.md is the rehearsal's script: every command block is run by a rehearsal step, or
// (needing a cloud) says what the rehearsal runs in its place.
describe("docs/deploy.md", () => {
  const blocks = docBlocks();
  const steps = readdirSync(join(ROOT, "test", "rehearse"))
    .filter((f) => f.endsWith(".test.ts"))
    .map((f) => readFileSync(join(ROOT, "test", "rehearse", f), "utf8"))
    .join("\n");

  it("has no command block the rehearsal neither runs nor stands in for", () => {
    expect(blocks.length).toBeGreaterThan(10);
    expect(blocks.filter((b) => b.kind === "untagged").map((b) => b.code)).toEqual([]);
    for (const b of blocks) {
      if (b.kind === "cloud") expect(b.id.length, b.code).toBeGreaterThan(20);
    }
  });

  it("every block marked as rehearsed is run by a rehearsal step", () => {
    const ids = blocks.flatMap((b) => (b.kind === "rehearse" ? [b.id] : []));
    const run = ids.filter((id) => id === "self" || steps.includes(`docBlock("${id}")`));
    expect(run).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("the README points here and keeps no deploy walkthrough of its own", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const start = readme.indexOf("\n## Docker\n");
    expect(start).toBeGreaterThan(0);
    const next = readme.indexOf("\n## ", start + 1);
    const section = readme
      .slice(start + 1, next)
      .trimEnd()
      .split("\n");
    expect(section.length).toBeLessThanOrEqual(20);
    expect(section.join("\n")).toContain("(docs/deploy.md)");
    for (const gone of ["## Deploy as functions", "## Edge, regions and GPUs", "serverless.yml"]) {
      expect(readme).not.toContain(gone);
    }
  });
});
