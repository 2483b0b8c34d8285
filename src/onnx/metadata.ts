import { open } from "node:fs/promises";

/** The graph metadata entry that says how a graph was quantized (`edgepool quantize`). */
export const QUANTIZATION_KEY = "edgepool.quantization";

/** How a graph was quantized (its `edgepool.quantization` metadata entry). */
export const quantizationMethod = (fullRange: boolean) =>
  `dynamic int8: per-output-channel symmetric int8 weights on ${fullRange ? 8 : 7} bits, activations quantized at run time (com.microsoft DynamicQuantizeMatMul)`;

/** Whether a graph's quantization entry says its weights use all 8 bits (`--full-range`). */
export const fullRangeWeights = (method: string | undefined) =>
  method !== undefined && /weights on 8 bits/.test(method);

/** ModelProto's `metadata_props` field (repeated StringStringEntryProto: key 1, value 2). */
const METADATA_FIELD = 14;
/** Enough for any one field's header (tag and length varints). */
const HEADER = 32;

interface Field {
  field: number;
  /** Where its payload starts and how long it is (length-delimited), or its end (other types). */
  start: number;
  length: number;
}

/** A varint at `at` of `buf`: its value and the offset after it, or null when `buf` ends first. */
function varint(buf: Uint8Array, at: number): [number, number] | null {
  let value = 0;
  let scale = 1;
  for (let i = at; i < buf.length && i < at + 10; i++) {
    const byte = buf[i]!;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return [value, i + 1];
    scale *= 128;
  }
  return null;
}

/** The top-level field at `offset` of the encoded message `buf` (read from its start). */
function fieldAt(buf: Uint8Array, offset: number): Field | null {
  const tag = varint(buf, 0);
  if (!tag) return null;
  const [key, afterTag] = tag;
  const field = Math.floor(key / 8);
  switch (key & 7) {
    case 0: {
      const v = varint(buf, afterTag);
      return v ? { field, start: offset + v[1], length: 0 } : null;
    }
    case 1:
      return { field, start: offset + afterTag + 8, length: 0 };
    case 5:
      return { field, start: offset + afterTag + 4, length: 0 };
    case 2: {
      const len = varint(buf, afterTag);
      return len ? { field, start: offset + len[1], length: len[0] } : null;
    }
    default:
      return null;
  }
}

/** Decode a StringStringEntryProto. */
function entry(buf: Uint8Array): [string, string] {
  const text = new TextDecoder();
  let key = "";
  let value = "";
  let at = 0;
  while (at < buf.length) {
    const f = fieldAt(buf.subarray(at), at);
    if (!f) break;
    if (f.field === 1) key = text.decode(buf.subarray(f.start, f.start + f.length));
    if (f.field === 2) value = text.decode(buf.subarray(f.start, f.start + f.length));
    at = f.start + f.length;
  }
  return [key, value];
}

/**
 * The `metadata_props` of an ONNX file, read without decoding the graph: the top-level fields'
 * headers are read one by one and the graph (with its weights) is skipped over, so a large model
 * costs a few small reads. An unreadable or malformed file gives what was found before the fault.
 */
export async function readOnnxMetadata(path: string): Promise<Map<string, string>> {
  const props = new Map<string, string>();
  const file = await open(path);
  try {
    const size = (await file.stat()).size;
    const head = new Uint8Array(HEADER);
    let offset = 0;
    while (offset < size) {
      const { bytesRead } = await file.read(head, 0, HEADER, offset);
      const f = fieldAt(head.subarray(0, bytesRead), offset);
      if (!f || f.start + f.length > size) break;
      if (f.field === METADATA_FIELD && f.length <= 1 << 20) {
        const body = new Uint8Array(f.length);
        await file.read(body, 0, f.length, f.start);
        const [key, value] = entry(body);
        props.set(key, value);
      }
      offset = f.start + f.length;
    }
  } finally {
    await file.close();
  }
  return props;
}
