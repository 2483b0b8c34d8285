import type { Metafile } from "esbuild";
import { describe, expect, it } from "vitest";
import { notAtStartup, startupInputs } from "../../scripts/build-functions.js";

const out = (inputs: string[], imports: Metafile["outputs"][string]["imports"]) => ({
  bytes: 1,
  inputs: Object.fromEntries(inputs.map((i) => [i, { bytesInOutput: 1 }])),
  imports,
  exports: [],
});

describe("what a function loads at start-up", () => {
  // index.js imports chunk-a statically and chunk-b on demand; chunk-a imports a node: module.
  const metafile: Metafile = {
    inputs: {},
    outputs: {
      "dist/functions/f/index.js": out(
        ["functions/f.ts"],
        [
          { path: "dist/functions/f/chunk-a.js", kind: "import-statement" },
          { path: "dist/functions/f/chunk-b.js", kind: "dynamic-import" },
        ],
      ),
      "dist/functions/f/chunk-a.js": out(
        ["node_modules/prom-client/index.js"],
        [{ path: "node:fs", kind: "import-statement", external: true }],
      ),
      "dist/functions/f/chunk-b.js": out(["node_modules/pg/lib/index.js"], []),
    },
  };

  it("follows static imports, not dynamic ones", () => {
    expect(startupInputs(metafile, "dist/functions/f/index.js").sort()).toEqual([
      "functions/f.ts",
      "node_modules/prom-client/index.js",
    ]);
  });

  it("bans metrics and store code from model functions, not from the store-backed ones", () => {
    const inputs = startupInputs(metafile, "dist/functions/f/index.js");
    const banned = (name: string) =>
      inputs.filter((f) => notAtStartup(name).some((re) => re.test(f)));
    expect(banned("embeddings")).toEqual(["node_modules/prom-client/index.js"]);
    expect(banned("rerank-jobs")).toEqual([]);
    expect(notAtStartup("rerank-jobs").some((re) => re.test("node_modules/pg/lib/index.js"))).toBe(
      true,
    );
  });

  it("allows Hono's Lambda adapter at start-up, not the rest of Hono or zod", () => {
    const banned = (f: string) => notAtStartup("embeddings").some((re) => re.test(f));
    expect(banned("node_modules/hono/dist/adapter/aws-lambda/handler.js")).toBe(false);
    expect(banned("node_modules/hono/dist/utils/encode.js")).toBe(false);
    expect(banned("node_modules/hono/dist/hono-base.js")).toBe(true);
    expect(banned("node_modules/hono/dist/utils/url.js")).toBe(true);
    expect(banned("node_modules/zod/v4/classic/schemas.js")).toBe(true);
    expect(banned("src/api/app.ts")).toBe(true);
  });
});
