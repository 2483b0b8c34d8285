import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fileGraphCheckMemo } from "./graph-check-memo.js";

const dirs: string[] = [];
function model(): { onnx: string; cache: string } {
  const root = mkdtempSync(join(tmpdir(), "edgepool-memo-"));
  dirs.push(root);
  mkdirSync(join(root, "model", "onnx"), { recursive: true });
  const onnx = join(root, "model", "onnx", "model.onnx");
  writeFileSync(onnx, "graph");
  writeFileSync(`${onnx}_data`, "weights");
  return { onnx, cache: join(root, "cache") };
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const limits = { maxModelLen: 512, vocabSize: 30522 };

describe("graph checks remembered per ONNX file", () => {
  it("remembers exactly the limits that passed", async () => {
    const { onnx, cache } = model();
    const memo = (await fileGraphCheckMemo(onnx, cache))!;
    expect(await memo.passed(limits)).toBe(false);
    await memo.record(limits);
    const again = (await fileGraphCheckMemo(onnx, cache))!;
    expect(await again.passed(limits)).toBe(true);
    expect(await again.passed({ ...limits, maxModelLen: 2048 })).toBe(false);
    expect(await again.passed({ ...limits, vocabSize: 1e12 })).toBe(false);
  });

  it("forgets them when the graph or its external data changes", async () => {
    for (const changed of ["model.onnx", "model.onnx_data"]) {
      const { onnx, cache } = model();
      await (await fileGraphCheckMemo(onnx, cache))!.record(limits);
      const file = join(onnx, "..", changed);
      writeFileSync(file, "replaced");
      expect(await (await fileGraphCheckMemo(onnx, cache))!.passed(limits)).toBe(false);
      await (await fileGraphCheckMemo(onnx, cache))!.record(limits);
      utimesSync(file, new Date(0), new Date(0));
      expect(await (await fileGraphCheckMemo(onnx, cache))!.passed(limits)).toBe(false);
    }
  });

  it("runs the probes when the cache cannot be written", async () => {
    const { onnx, cache } = model();
    writeFileSync(cache, "a file where the folder should be");
    const memo = (await fileGraphCheckMemo(onnx, cache))!;
    await memo.record(limits);
    expect(await memo.passed(limits)).toBe(false);
  });
});
