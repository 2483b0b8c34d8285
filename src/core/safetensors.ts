import { ModelConfigError } from "./errors.js";
import { isJsonObject } from "./model-config.js";

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Parse a `.safetensors` file (F32, F16 and BF16 tensors) into float32 arrays. */
export function parseSafetensors(bytes: Uint8Array): Map<string, NamedTensor> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 8) throw new ModelConfigError("safetensors file is truncated");
  const headerLen = Number(view.getBigUint64(0, true));
  if (8 + headerLen > bytes.byteLength)
    throw new ModelConfigError("safetensors header is truncated");
  const header: unknown = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  if (!isJsonObject(header)) throw new ModelConfigError("safetensors header is not an object");
  const base = 8 + headerLen;
  const out = new Map<string, NamedTensor>();
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__" || !isJsonObject(info)) continue;
    const shape = info.shape as number[];
    const [start, end] = info.data_offsets as [number, number];
    const count = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(count);
    const at = base + start;
    if (base + end > bytes.byteLength)
      throw new ModelConfigError(`safetensors tensor ${name} is truncated`);
    for (let i = 0; i < count; i++) {
      switch (info.dtype) {
        case "F32":
          data[i] = view.getFloat32(at + 4 * i, true);
          break;
        case "F16":
          data[i] = halfToFloat(view.getUint16(at + 2 * i, true));
          break;
        case "BF16":
          // bfloat16 is the high half of a float32
          data[i] = new Float32Array(
            new Uint32Array([view.getUint16(at + 2 * i, true) << 16]).buffer,
          )[0]!;
          break;
        default:
          throw new ModelConfigError(
            `safetensors tensor ${name} has unsupported dtype ${String(info.dtype)}`,
          );
      }
    }
    out.set(name, { shape, data });
  }
  return out;
}
