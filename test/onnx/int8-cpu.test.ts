import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEngine } from "../../src/engine/index.js";
import { cpuFacts, hasVnni, int8RangeWarning } from "../../src/engine/node/int8-cpu.js";
import { quantizeFolder } from "../../src/onnx/folder.js";
import { QUANTIZATION_KEY, readOnnxMetadata } from "../../src/onnx/metadata.js";
import { readOnnx } from "../../src/onnx/onnx-proto.js";
import { fixture } from "../helpers/fixtures.js";

// /proc/cpuinfo's flags lines of real CPUs (shortened to the flags that matter and a few others).
const AVX2 = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma bmi2 sha_ni\n";
const AVX512_NO_VNNI = "processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512bw avx512vl\n";
const AVX512_VNNI = "processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512bw avx512_vnni\n";
const AVX_VNNI = "processor\t: 0\nflags\t\t: fpu avx2 avx_vnni\n";
const ARM = "processor\t: 0\nFeatures\t: fp asimd evtstrm aes asimddp\n";

let tmp: string;
const graph = (variant: string) => join(tmp, variant, "onnx", "model_quantized.onnx");

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "edgepool-int8-cpu-"));
  await quantizeFolder(fixture("bert-embed-mean"), join(tmp, "full"), { fullRange: true });
  await quantizeFolder(fixture("bert-embed-mean"), join(tmp, "reduced"));
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("an ONNX file's metadata, read without decoding its graph", () => {
  it("equals what protobuf decoding of the whole model gives", async () => {
    for (const path of [graph("full"), graph("reduced")]) {
      const decoded = readOnnx(path).metadataProps ?? [];
      expect(decoded.length).toBeGreaterThan(0);
      const read = await readOnnxMetadata(path);
      expect([...read]).toEqual(decoded.map((p) => [p.key, p.value]));
    }
    expect((await readOnnxMetadata(graph("full"))).get(QUANTIZATION_KEY)).toMatch(/on 8 bits/);
    expect((await readOnnxMetadata(graph("reduced"))).get(QUANTIZATION_KEY)).toMatch(/on 7 bits/);
  });

  it("is empty for a graph without entries", async () => {
    const path = join(fixture("bert-embed-mean"), "onnx", "model.onnx");
    expect(readOnnx(path).metadataProps ?? []).toEqual([]);
    expect((await readOnnxMetadata(path)).size).toBe(0);
  });
});

describe("8-bit weights on a CPU without VNNI", () => {
  it("reads VNNI from the CPU flags", () => {
    expect(hasVnni(AVX2)).toBe(false);
    expect(hasVnni(AVX512_NO_VNNI)).toBe(false);
    expect(hasVnni(AVX512_VNNI)).toBe(true);
    expect(hasVnni(AVX_VNNI)).toBe(true);
    expect(hasVnni(ARM)).toBeNull();
  });

  it("warns for 8-bit weights on x86 without VNNI, and only then", async () => {
    for (const cpuinfo of [AVX2, AVX512_NO_VNNI]) {
      const warning = await int8RangeWarning(graph("full"), { arch: "x64", cpuinfo });
      expect(warning).not.toBeNull();
      expect(warning).toContain("--full-range");
      expect(warning).toContain("no VNNI");
    }
    expect(await int8RangeWarning(graph("reduced"), { arch: "x64", cpuinfo: AVX2 })).toBeNull();
    expect(await int8RangeWarning(graph("full"), { arch: "x64", cpuinfo: AVX512_VNNI })).toBeNull();
    expect(await int8RangeWarning(graph("full"), { arch: "x64", cpuinfo: AVX_VNNI })).toBeNull();
    expect(await int8RangeWarning(graph("full"), { arch: "arm64", cpuinfo: ARM })).toBeNull();
    expect(await int8RangeWarning(graph("full"), { arch: "x64", cpuinfo: null })).toBeNull();
  });

  it("loading the model warns as this machine's CPU calls for", async () => {
    const expected = await int8RangeWarning(graph("full"), await cpuFacts());
    for (const variant of ["full", "reduced"]) {
      const warnings: string[] = [];
      const engine = await loadEngine({
        model: join(tmp, variant),
        dtype: "q8",
        onWarning: (w) => warnings.push(w),
      });
      await engine.close();
      const int8 = warnings.filter((w) => w.includes("VNNI"));
      expect(int8).toEqual(variant === "full" && expected ? [expected] : []);
    }
  });
});
