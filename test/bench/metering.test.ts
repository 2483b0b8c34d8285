import { describe, expect, it } from "vitest";
import { docBlock } from "../docs/blocks.js";
import { ROOT } from "../helpers/server.js";
import { testBackends } from "../helpers/stores.js";

const postgres = (await testBackends())[1]!;

// docs/metering.md's benchmark, rehearsed small: it runs and reports each configuration.
describe.skipIf(postgres.unavailable !== null)("bench/metering.ts", () => {
  it("reports time and CPU per request for none, SQLite and Postgres", async () => {
    const { spawn } = await import("node:child_process");
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve) => {
        const [build, command] = docBlock("docs/metering.md", "bench").trim().split(" && ");
        expect(build).toBe("npm run build");
        const small = command!.replace(
          "--c 64 --rounds 9 --requests 3000",
          "--c 8 --rounds 1 --requests 64",
        );
        expect(small).toBe("node --import tsx bench/metering.ts --c 8 --rounds 1 --requests 64");
        const [, ...args] = small.split(" ");
        const p = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        p.stdout.on("data", (c: Buffer) => {
          stdout += c.toString();
        });
        p.stderr.on("data", (c: Buffer) => {
          stderr += c.toString();
        });
        p.once("close", (code) => resolve({ code, stdout, stderr }));
      },
    );
    expect(out.code, out.stderr).toBe(0);
    const line = out.stdout.split("\n").find((l) => l.startsWith("concurrency 8:"));
    expect(line).toBeDefined();
    const row = JSON.parse(line!.slice("concurrency 8:".length)) as Record<
      string,
      { msPerRequest: number; cpuUsPerRequest: number }
    >;
    for (const name of ["none", "sqlite", "postgres"]) {
      expect(row[name]!.msPerRequest).toBeGreaterThan(0);
      expect(row[name]!.cpuUsPerRequest).toBeGreaterThan(0);
    }
  }, 120_000);
});
