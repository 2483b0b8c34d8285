import { readFile } from "node:fs/promises";
import { fullRangeWeights, QUANTIZATION_KEY, readOnnxMetadata } from "../../onnx/metadata.js";

/** What decides whether 8-bit weights are exact here: the architecture and Linux's CPU flags. */
export interface CpuFacts {
  arch: string;
  /** /proc/cpuinfo's text, null where there is none (not Linux). */
  cpuinfo: string | null;
}

/** Whether an x86-64 CPU has VNNI (AVX-512 VNNI or AVX-VNNI); null when its flags are unknown. */
export function hasVnni(cpuinfo: string): boolean | null {
  const line = /^flags\s*:(.*)$/m.exec(cpuinfo);
  if (!line) return null;
  const flags = new Set(line[1]!.trim().split(/\s+/));
  return flags.has("avx512_vnni") || flags.has("avx_vnni");
}

/** This machine's facts (read once). */
let facts: Promise<CpuFacts> | null = null;
export function cpuFacts(): Promise<CpuFacts> {
  facts ??= readFile("/proc/cpuinfo", "utf8").then(
    (cpuinfo) => ({ arch: process.arch, cpuinfo }),
    () => ({ arch: process.arch, cpuinfo: null }),
  );
  return facts;
}

/**
 * A warning when a graph quantized with 8-bit weights (`edgepool quantize --full-range`) is to
 * run on an x86-64 CPU without VNNI, where ONNX Runtime's u8×s8 products saturate their int16
 * sums and the outputs drift from fp32; null otherwise (Arm, VNNI, unknown flags, 7-bit weights,
 * a graph without the entry). Reads the graph's metadata only on such a CPU.
 */
export async function int8RangeWarning(graph: string, cpu: CpuFacts): Promise<string | null> {
  if (cpu.arch !== "x64" || cpu.cpuinfo === null || hasVnni(cpu.cpuinfo) !== false) return null;
  const method = (await readOnnxMetadata(graph)).get(QUANTIZATION_KEY);
  if (!fullRangeWeights(method)) return null;
  return `${graph} has 8-bit int8 weights (edgepool quantize --full-range) and this CPU has no VNNI (AVX-512 VNNI or AVX-VNNI): ONNX Runtime's int8 products saturate on it and the outputs drift from fp32 (cosine 0.988 measured on an AVX2 CPU). Quantize without --full-range (7-bit weights, correct on every CPU) for this machine.`;
}
