import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { afterEach, describe, expect, it } from "vitest";
import { onnx } from "../../onnx/onnx-proto.js";
import { loadEngine } from "./load.js";
import { mappedWeightsGraph } from "./mapped-weights.js";

const FIXTURE = join(
  dirname(fileURLToPath(import.meta.url)),
  "../../../test/fixtures/models/bert-embed-mean/onnx/model.onnx",
);

const dirs: string[] = [];
function graph(bytes?: string): { onnx: string; cache: string } {
  const root = mkdtempSync(join(tmpdir(), "edgepool-mapped-"));
  dirs.push(root);
  mkdirSync(join(root, "model"), { recursive: true });
  const path = join(root, "model", "model.onnx");
  if (bytes === undefined) copyFileSync(FIXTURE, path);
  else writeFileSync(path, bytes);
  return { onnx: path, cache: join(root, "cache") };
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function embed(path: string): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(path);
  const ids = [2n, 17n, 41n, 99n, 150n, 3n];
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of session.inputNames) {
    const values =
      name === "input_ids"
        ? BigInt64Array.from(ids)
        : new BigInt64Array(ids.length).fill(name === "attention_mask" ? 1n : 0n);
    feeds[name] = new ort.Tensor("int64", values, [1, ids.length]);
  }
  const out = await session.run(feeds);
  await session.release();
  return out[session.outputNames[0]!]!.data as Float32Array;
}

describe("mapped weights", () => {
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  afterEach(() => {
    warnings.length = 0;
  });

  it("moves the weights to a page-aligned data file; the session computes the same numbers", async () => {
    const { onnx: source, cache } = graph();
    const first = await mappedWeightsGraph(source, cache, warn);
    expect(first.wrote).toBe(true);
    expect(first.path.startsWith(join(cache, "mapped-weights"))).toBe(true);
    const model = onnx.ModelProto.decode(readFileSync(first.path));
    const external = model.graph!.initializer!.filter(
      (t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL,
    );
    expect(external.length).toBeGreaterThan(0);
    for (const t of external) {
      const entry = (k: string) => t.externalData!.find((e) => e.key === k)!.value!;
      expect(entry("location")).toBe("model.onnx_data");
      expect(Number(entry("offset")) % 4096).toBe(0);
      expect(t.rawData?.length ?? 0).toBe(0);
    }
    expect(readFileSync(first.path).length).toBeLessThan(readFileSync(source).length / 2);
    expect(Array.from(await embed(first.path))).toEqual(Array.from(await embed(source)));

    const again = await mappedWeightsGraph(source, cache, warn);
    expect(again).toEqual({ path: first.path, wrote: false });
    expect(warnings).toEqual([]);
  });

  it("keys the copy by the file, not by the path that names it", async () => {
    const { onnx: source, cache } = graph();
    const first = await mappedWeightsGraph(source, cache, warn);
    const other = graph();
    const second = await mappedWeightsGraph(other.onnx, cache, warn);
    const linked = join(dirname(dirname(source)), "linked");
    symlinkSync(dirname(source), linked);
    const viaLink = await mappedWeightsGraph(join(linked, "model.onnx"), cache, warn);
    expect(viaLink).toEqual({ path: first.path, wrote: false });
    expect(second.wrote).toBe(true);
    expect(existsSync(first.path)).toBe(true);
  });

  it("uses a graph whose weights are external already as it is", async () => {
    const { onnx: source, cache } = graph();
    const mapped = (await mappedWeightsGraph(source, cache, warn)).path;
    const kept = await mappedWeightsGraph(mapped, join(cache, "other"), warn);
    expect(kept).toEqual({ path: mapped, wrote: false });
    expect(warnings).toEqual([]);
  });

  it("converts again when the source changes, replacing the older copy", async () => {
    const { onnx: source, cache } = graph();
    const first = (await mappedWeightsGraph(source, cache, warn)).path;
    writeFileSync(source, readFileSync(FIXTURE));
    const second = await mappedWeightsGraph(source, cache, warn);
    expect(second.wrote).toBe(true);
    expect(second.path).not.toBe(first);
    // The copy of the earlier version is removed; a copy of another file is not.
    expect(existsSync(dirname(first))).toBe(false);
  });

  it("loads the source, with a warning, when the cache cannot be written", async () => {
    const { onnx: source, cache } = graph();
    writeFileSync(cache, "a file where the cache folder would be");
    expect(await mappedWeightsGraph(source, cache, warn)).toEqual({ path: source, wrote: false });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("loads the graph file as it is");
  });

  it("leaves what is not an ONNX graph to the session, which reports it", async () => {
    const { onnx: source, cache } = graph("not a graph");
    expect(await mappedWeightsGraph(source, cache, warn)).toEqual({ path: source, wrote: false });
    expect(await mappedWeightsGraph(source, cache, warn)).toEqual({ path: source, wrote: false });
    expect(warnings).toEqual([]);
  });

  it("is what a load uses: by default, not when turned off, not on AWS Lambda unless asked", async () => {
    const cases = [
      [undefined, undefined, true],
      [false, undefined, false],
      ["auto", "edgepool-fn", false],
      [true, "edgepool-fn", true],
    ] as const;
    for (const [mappedWeights, lambda, expected] of cases) {
      const { cache } = graph();
      if (lambda) process.env.AWS_LAMBDA_FUNCTION_NAME = lambda;
      try {
        const engine = await loadEngine({
          model: dirname(dirname(FIXTURE)),
          store: { cacheDir: cache },
          ...(mappedWeights === undefined ? {} : { mappedWeights }),
        });
        await engine.close();
      } finally {
        delete process.env.AWS_LAMBDA_FUNCTION_NAME;
      }
      expect(existsSync(join(cache, "mapped-weights")), String(mappedWeights)).toBe(expected);
    }
  });
});
