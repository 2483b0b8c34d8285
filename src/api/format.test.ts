import { describe, expect, it } from "vitest";
import { floatsJson, formatPooled } from "./format.js";

describe("response formatting", () => {
  it("floatsJson writes the same text as JSON.stringify", () => {
    const v = Float32Array.from([0.1, -2.5e-8, 3, 1 / 3, -0]);
    expect(floatsJson(v)).toBe(JSON.stringify(Array.from(v)));
    expect(JSON.parse(floatsJson(Float32Array.from([Number.NaN, 1])))).toEqual([null, 1]);
    expect(floatsJson(Float32Array.from([Number.POSITIVE_INFINITY]))).toBe("[null]");
    expect(floatsJson(new Float32Array(0))).toBe("[]");
    // A view into a larger buffer (a batch's output row) is read from its own offset.
    const batch = Float32Array.from([9, 9, 0.5, -1, 9]);
    expect(floatsJson(batch.subarray(2, 4))).toBe("[0.5,-1]");
  });

  it("base64 is the little-endian float32 bytes; token outputs are flattened", () => {
    const rows = [Float32Array.from([1, 2]), Float32Array.from([3, 4])];
    const b64 = formatPooled(rows, { encoding_format: "base64" }) as string;
    const buf = Buffer.from(b64, "base64");
    expect(Array.from(new Float32Array(buf.buffer, buf.byteOffset, 4))).toEqual([1, 2, 3, 4]);
    expect(formatPooled(rows, {})).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });
});
