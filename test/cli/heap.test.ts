import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// src/cli/heap.ts: serve holds V8's young generation near a bound, set from inside the process.
const HEAP = join(import.meta.dirname, "..", "..", "src", "cli", "heap.ts");

/** Requests in flight (a rotating live set) and their garbage; the largest semi-space seen. */
const LOAD = `
import { getHeapSpaceStatistics } from "node:v8";
import { holdYoungGeneration } from ${JSON.stringify(HEAP)};
const mib = Number(process.env.HOLD_MIB);
const held = mib > 0 ? holdYoungGeneration(mib) : null;
const semi = () => {
  const s = getHeapSpaceStatistics().find((x) => x.space_name === "new_space");
  return (s.space_used_size + s.space_available_size) / 1048576;
};
const live = [];
let largest = 0;
for (let r = 0; r < 30000; r++) {
  live.push(new Array(300).fill(r));
  if (live.length > 400) live.shift();
  for (let k = 0; k < 20; k++) new Array(100).fill(k);
  if (r % 50 === 0) {
    await new Promise((go) => setImmediate(go));
    largest = Math.max(largest, semi());
  }
}
console.log(JSON.stringify({ held, largest }));
`;

function run(mib: number, nodeFlags: string[] = []): { held: boolean | null; largest: number } {
  const r = spawnSync(
    process.execPath,
    [...nodeFlags, "--import", "tsx", "--input-type=module", "-e", LOAD],
    { encoding: "utf8", env: { ...process.env, HOLD_MIB: String(mib), NODE_OPTIONS: "" } },
  );
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!);
}

describe("the server's young generation", () => {
  it("grows past the bound without it (the load below needs the bound)", () => {
    expect(run(0).largest).toBeGreaterThan(16);
  });

  it("is held between the bound and twice it", () => {
    const r = run(4);
    expect(r.held).toBe(true);
    expect(r.largest).toBeGreaterThanOrEqual(4);
    expect(r.largest).toBeLessThanOrEqual(8);
  });

  it("is left to a young-generation flag given to node itself", () => {
    const r = run(4, ["--max-semi-space-size=32"]);
    expect(r.held).toBe(false);
    expect(r.largest).toBeGreaterThan(16);
  });
});
