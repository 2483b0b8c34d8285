import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import onnxProto from "onnx-proto";
import { ModelConfigError } from "../core/index.js";
import { safeRelativePath } from "../models/paths.js";

/** ONNX's protobuf classes (onnx-proto: the ONNX schema compiled with protobufjs). */
export const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.ModelProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type NodeProto = onnxProto.onnx.INodeProto;

export const DataType = onnx.TensorProto.DataType;

/** Protobuf's hard limit on one message: larger models keep their weights in external data. */
const PROTOBUF_LIMIT = 2 ** 31 - 1;

/**
 * Read an ONNX model; weights kept in external data files (`model.onnx_data`) are read into the
 * graph so that the rewritten model is one self-contained file.
 */
export function readOnnx(path: string): ModelProto {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(readFileSync(path));
  } catch (err) {
    throw new ModelConfigError(`${path} is not an ONNX model: ${(err as Error).message}`);
  }
  if (!model.graph) throw new ModelConfigError(`${path} has no graph`);
  const files = new Map<string, Buffer>();
  for (const t of model.graph.initializer ?? []) {
    if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    const entry = (key: string) => t.externalData?.find((e) => e.key === key)?.value ?? undefined;
    const location = entry("location");
    if (!location) throw new ModelConfigError(`${path}: tensor ${t.name} has no external location`);
    const file = join(dirname(path), safeRelativePath(location, "external data location"));
    let bytes = files.get(file);
    if (!bytes) {
      bytes = readFileSync(file);
      files.set(file, bytes);
    }
    const offset = Number(entry("offset") ?? 0);
    const length = Number(entry("length") ?? bytes.length - offset);
    t.rawData = bytes.subarray(offset, offset + length);
    t.externalData = [];
    t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
  }
  return model;
}

/** Serialize a model; refuses (clearly) what protobuf cannot hold in one file. */
export function encodeOnnx(model: ModelProto): Uint8Array {
  const bytes = onnx.ModelProto.encode(model).finish();
  if (bytes.length > PROTOBUF_LIMIT) {
    throw new ModelConfigError(
      `The rewritten model is ${bytes.length} bytes, over protobuf's 2 GiB limit for one file`,
    );
  }
  return bytes;
}

export function dimsOf(t: TensorProto): number[] {
  return (t.dims ?? []).map((d) => Number(d));
}

/** A float32 tensor's values, from `raw_data` (little-endian) or `float_data`. */
export function floatValues(t: TensorProto): Float32Array {
  const count = dimsOf(t).reduce((a, b) => a * b, 1);
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    if (raw.length !== count * 4)
      throw new ModelConfigError(`Tensor ${t.name}: ${raw.length} bytes for ${count} floats`);
    // Copy into an aligned buffer (protobuf slices may start at any byte).
    const out = new Float32Array(count);
    new Uint8Array(out.buffer).set(raw);
    return out;
  }
  return Float32Array.from(t.floatData ?? []);
}

export function floatTensor(name: string, dims: number[], values: Float32Array): TensorProto {
  return {
    name,
    dims,
    dataType: DataType.FLOAT,
    rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  };
}

export function int8Tensor(name: string, dims: number[], values: Int8Array): TensorProto {
  return {
    name,
    dims,
    dataType: DataType.INT8,
    rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  };
}

/** An integer attribute of a node, or its default. */
export function intAttr(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute?.find((x) => x.name === name);
  return a?.i !== undefined && a.i !== null ? Number(a.i) : fallback;
}

export function floatAttr(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute?.find((x) => x.name === name);
  return a?.f !== undefined && a.f !== null ? a.f : fallback;
}
