import { QUANTIZATION_KEY, quantizationMethod } from "./metadata.js";
import {
  DataType,
  dimsOf,
  floatAttr,
  floatTensor,
  floatValues,
  int8Tensor,
  intAttr,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from "./onnx-proto.js";

export interface QuantizeOptions {
  /**
   * Weights on 8 bits (±127) instead of 7 (±63): slightly more accurate, but on x86 CPUs without
   * VNNI (AVX2 only, AVX-512 without VNNI) ONNX Runtime's u8×s8 products saturate their int16
   * sums and the outputs drift (measured: cosine to fp32 0.988, a reranker's Spearman 0.95 on the
   * test fixtures). For CPUs with AVX-512 VNNI / AVX-VNNI or Arm. Default off: 7 bits, correct on
   * every CPU.
   */
  fullRange?: boolean;
  /** Leave weights with fewer elements than this in fp32 (default 0: every constant weight). */
  minElements?: number;
  /**
   * Told the bytes of each MatMul/Gemm weight once handled (quantized or left as it is); they add
   * up to `matmulWeightBytes(model)`.
   */
  onWeight?: (bytes: number) => void;
}

export interface QuantizeReport {
  /** MatMul / Gemm nodes rewritten to DynamicQuantizeMatMul. */
  quantizedNodes: number;
  /** Nodes left as they were (weights not constant, not 2-D, or Gemm with alpha/beta/transA). */
  skippedNodes: number;
  /** Weight bytes before and after. */
  fp32Bytes: number;
  int8Bytes: number;
}

const isMatMulOrGemm = (node: NodeProto) =>
  (node.opType === "MatMul" || node.opType === "Gemm") && !node.domain;

/** The constant float weights (`input[1]`) of a graph's MatMul and Gemm nodes, in bytes. */
export function matmulWeightBytes(model: ModelProto): number {
  const graph = model.graph!;
  const inputs = new Set((graph.input ?? []).map((i) => i.name));
  const inits = new Map<string, TensorProto>();
  for (const t of graph.initializer ?? []) if (!inputs.has(t.name!)) inits.set(t.name!, t);
  let bytes = 0;
  for (const node of graph.node ?? []) bytes += weightBytes(node, inits);
  return bytes;
}

function weightBytes(node: NodeProto, inits: ReadonlyMap<string, TensorProto>): number {
  const weight = isMatMulOrGemm(node) && node.input?.[1] ? inits.get(node.input[1]) : undefined;
  if (!weight || weight.dataType !== DataType.FLOAT) return 0;
  return dimsOf(weight).reduce((n, d) => n * d, 4);
}

/**
 * Symmetric per-column quantization of a `[K, N]` weight: one scale per output channel,
 * zero point 0, values in ±qmax.
 */
export function quantizePerColumn(
  w: Float32Array,
  k: number,
  n: number,
  qmax: number,
): { q: Int8Array; scale: Float32Array } {
  const scale = new Float32Array(n);
  for (let r = 0; r < k; r++) {
    const row = r * n;
    for (let c = 0; c < n; c++) {
      const a = Math.abs(w[row + c]!);
      if (a > scale[c]!) scale[c] = a;
    }
  }
  for (let c = 0; c < n; c++) scale[c] = scale[c]! > 0 ? scale[c]! / qmax : 1;
  const q = new Int8Array(k * n);
  for (let r = 0; r < k; r++) {
    const row = r * n;
    for (let c = 0; c < n; c++) {
      const v = Math.round(w[row + c]! / scale[c]!);
      q[row + c] = Math.min(qmax, Math.max(-qmax, v));
    }
  }
  return { q, scale };
}

function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c]!;
  return out;
}

/** How many times each value is read: by nodes (subgraphs included) and as a graph output. */
function useCounts(model: ModelProto): Map<string, number> {
  const graph = model.graph!;
  const uses = new Map<string, number>();
  const countUses = (nodes: readonly NodeProto[]) => {
    for (const n of nodes) {
      for (const i of n.input ?? []) uses.set(i, (uses.get(i) ?? 0) + 1);
      // Subgraphs (If / Loop bodies) may read outer initializers too.
      for (const a of n.attribute ?? []) {
        if (a.g) countUses(a.g.node ?? []);
        for (const g of a.graphs ?? []) countUses(g.node ?? []);
      }
    }
  };
  countUses(graph.node ?? []);
  for (const o of graph.output ?? []) uses.set(o.name!, (uses.get(o.name!) ?? 0) + 1);
  return uses;
}

interface Quantizable {
  weightName: string;
  /** The weight as `[k, n]` (a Gemm's transposed weight turned back). */
  values: Float32Array;
  k: number;
  n: number;
  isGemm: boolean;
}

/**
 * A MatMul, or a Gemm without transA, alpha or beta, whose weight is a constant 2-D float
 * initializer of at least `minElements` (and a Gemm's bias, if any, 1-D); null otherwise.
 */
function quantizable(
  node: NodeProto,
  inits: ReadonlyMap<string, TensorProto>,
  minElements: number,
): Quantizable | null {
  const isMatMul = node.opType === "MatMul" && !node.domain;
  const isGemm = node.opType === "Gemm" && !node.domain;
  if (!isMatMul && !isGemm) return null;
  const weightName = node.input?.[1];
  const weight = weightName ? inits.get(weightName) : undefined;
  const dims = weight ? dimsOf(weight) : [];
  const plainGemm =
    isGemm &&
    intAttr(node, "transA", 0) === 0 &&
    floatAttr(node, "alpha", 1) === 1 &&
    floatAttr(node, "beta", 1) === 1;
  const bias = isGemm && node.input?.[2] ? inits.get(node.input[2]) : undefined;
  const biasOk = !isGemm || !node.input?.[2] || (bias && dimsOf(bias).length === 1);
  if (
    !weight ||
    weight.dataType !== DataType.FLOAT ||
    dims.length !== 2 ||
    dims[0]! * dims[1]! < minElements ||
    (isGemm && (!plainGemm || !biasOk))
  ) {
    return null;
  }
  let values = floatValues(weight);
  let [k, n] = dims as [number, number];
  if (isGemm && intAttr(node, "transB", 0) === 1) {
    values = transpose(values, k, n);
    [k, n] = [n, k];
  }
  return { weightName: weightName!, values, k, n, isGemm };
}

/**
 * Rewrite every MatMul (and plain Gemm) whose weight is a constant 2-D float initializer into
 * ONNX Runtime's `com.microsoft.DynamicQuantizeMatMul` with per-channel int8 weights. Everything
 * else in the graph is left unchanged. Mutates and returns the model.
 */
export function quantizeDynamicInt8(model: ModelProto, opts: QuantizeOptions = {}): QuantizeReport {
  const graph = model.graph!;
  const qmax = opts.fullRange ? 127 : 63;
  const inputs = new Set((graph.input ?? []).map((i) => i.name));
  const inits = new Map<string, TensorProto>();
  for (const t of graph.initializer ?? []) if (!inputs.has(t.name!)) inits.set(t.name!, t);
  const uses = useCounts(model);
  const report: QuantizeReport = { quantizedNodes: 0, skippedNodes: 0, fp32Bytes: 0, int8Bytes: 0 };
  const added: TensorProto[] = [];
  const removed = new Set<string>();
  const names = new Set([...(graph.node ?? []).map((n) => n.name ?? ""), ...inits.keys()]);
  const fresh = (base: string) => {
    let name = base;
    for (let i = 1; names.has(name); i++) name = `${base}_${i}`;
    names.add(name);
    return name;
  };

  const rewrite = (node: NodeProto): NodeProto => {
    const isMatMulOrGemm = (node.opType === "MatMul" || node.opType === "Gemm") && !node.domain;
    const w = quantizable(node, inits, opts.minElements ?? 0);
    if (!w) {
      if (isMatMulOrGemm) report.skippedNodes++;
      return node;
    }
    const { weightName, values, k, n } = w;
    const { q, scale } = quantizePerColumn(values, k, n, qmax);
    const base = fresh(`${weightName}_int8`);
    const scaleName = fresh(`${weightName}_scale`);
    const zeroName = fresh(`${weightName}_zero_point`);
    added.push(
      int8Tensor(base, [k, n], q),
      floatTensor(scaleName, [n], scale),
      int8Tensor(zeroName, [n], new Int8Array(n)),
    );
    report.quantizedNodes++;
    report.fp32Bytes += values.byteLength;
    report.int8Bytes += q.byteLength + scale.byteLength + n;
    const left = (uses.get(weightName) ?? 1) - 1;
    uses.set(weightName, left);
    if (left === 0) removed.add(weightName);
    const inputsOut = [node.input![0]!, base, scaleName, zeroName];
    if (w.isGemm && node.input?.[2]) inputsOut.push(node.input[2]);
    return {
      name: node.name || fresh(`${weightName}_DynamicQuantizeMatMul`),
      opType: "DynamicQuantizeMatMul",
      domain: "com.microsoft",
      input: inputsOut,
      output: node.output ?? [],
    };
  };
  graph.node = (graph.node ?? []).map((node) => {
    const out = rewrite(node);
    const handled = weightBytes(node, inits);
    if (handled > 0) opts.onWeight?.(handled);
    return out;
  });
  graph.initializer = [...(graph.initializer ?? []).filter((t) => !removed.has(t.name!)), ...added];
  if (report.quantizedNodes > 0) {
    const opsets = model.opsetImport ?? [];
    if (!opsets.some((o) => o.domain === "com.microsoft")) {
      opsets.push({ domain: "com.microsoft", version: 1 });
    }
    model.opsetImport = opsets;
    // Says how the weights were made, for whoever loads the graph (`onnx.load(...).metadata_props`).
    const props = (model.metadataProps ?? []).filter((p) => p.key !== QUANTIZATION_KEY);
    props.push({ key: QUANTIZATION_KEY, value: quantizationMethod(opts.fullRange === true) });
    model.metadataProps = props;
  }
  return report;
}
