import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/server.js";

describe("bench/gpu.sh", () => {
  it("parses (bash -n) and documents its dry run", () => {
    const script = join(ROOT, "bench", "gpu.sh");
    expect(() => execFileSync("bash", ["-n", script])).not.toThrow();
    const help = execFileSync("bash", [script, "--help"], { encoding: "utf8" });
    expect(help).toContain("--dry-run");
  });
});
