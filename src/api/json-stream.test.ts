import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonPieces, jsonStream } from "./json-stream.js";

describe("jsonPieces", () => {
  it("writes the same text as JSON.stringify", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect([...jsonPieces(value)].join("")).toBe(JSON.stringify(value));
      }),
      { numRuns: 500 },
    );
  });

  it("writes float32 arrays as JSON.stringify writes their values", () => {
    fc.assert(
      fc.property(fc.array(fc.float({ noDefaultInfinity: false })), (floats) => {
        const f32 = Float32Array.from(floats);
        expect([...jsonPieces([f32])].join("")).toBe(JSON.stringify([Array.from(f32)]));
      }),
      { numRuns: 300 },
    );
  });

  it("streams a large answer in bounded chunks", async () => {
    const rows = Array.from({ length: 64 }, (_, i) => new Float32Array(4096).fill(i / 7));
    const reader = jsonStream({ data: rows }).getReader();
    const parts: Uint8Array[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
    const chunks = parts.length;
    const largest = Math.max(...parts.map((p) => p.length));
    const text = Buffer.concat(parts).toString("utf8");
    expect(text).toBe(JSON.stringify({ data: rows.map((r) => Array.from(r)) }));
    expect(chunks).toBeGreaterThan(10);
    expect(largest).toBeLessThan(256 * 1024);
  });
});
