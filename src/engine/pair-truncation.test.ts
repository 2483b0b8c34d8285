import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { pairLengths } from "./pair-truncation.js";

/** The tokenizers' longest_first loop, one token per step: the reference. */
function reference(first: number, second: number, room: number): [number, number] {
  let a = first;
  let b = second;
  while (a + b > Math.max(room, 0)) {
    if (a >= b) a--;
    else b--;
  }
  return [a, b];
}

describe("pairLengths", () => {
  it("keeps what the one-token-per-step loop keeps", () => {
    fc.assert(
      fc.property(fc.nat(600), fc.nat(600), fc.integer({ min: -5, max: 1300 }), (a, b, room) => {
        expect(pairLengths(a, b, room)).toEqual(reference(a, b, room));
      }),
      { numRuns: 2000 },
    );
  });

  it("answers at once for any size (no per-token work)", () => {
    expect(pairLengths(3, 10_000_000, 512)).toEqual([3, 509]);
    expect(pairLengths(10_000_000, 10_000_001, 512)).toEqual([256, 256]);
  });
});
