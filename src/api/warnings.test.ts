import { describe, expect, it } from "vitest";
import { warningHeader } from "./warnings.js";

describe("Warning header", () => {
  it("is visible ASCII whatever the message holds (a valid header value)", () => {
    const h = warningHeader(['field "é\u2028" ignored\n', "second"]);
    expect(h).toBe('299 edgepool "field \\"\\u00e9\\u2028\\" ignored\\n", 299 edgepool "second"');
    expect(() => new Headers({ warning: h })).not.toThrow();
  });
});
