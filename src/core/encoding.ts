/** Binary encodings of embeddings: base64 of float32/float16/bfloat16, and Cohere-style int8/binary. */

export type EmbedDtype = "float32" | "float16" | "bfloat16";
export type Endianness = "native" | "little" | "big";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Standard base64 (with padding) of raw bytes. */
export function bytesToBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk = "";
  const n = bytes.length;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    chunk +=
      ALPHABET[(v >> 18) & 63]! +
      ALPHABET[(v >> 12) & 63]! +
      ALPHABET[(v >> 6) & 63]! +
      ALPHABET[v & 63]!;
    if (chunk.length >= 8192) {
      parts.push(chunk);
      chunk = "";
    }
  }
  if (i < n) {
    const b1 = bytes[i + 1] ?? 0;
    const v = (bytes[i]! << 16) | (b1 << 8);
    chunk += ALPHABET[(v >> 18) & 63]! + ALPHABET[(v >> 12) & 63]!;
    chunk += i + 1 < n ? `${ALPHABET[(v >> 6) & 63]!}=` : "==";
  }
  parts.push(chunk);
  return parts.join("");
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 half precision, round to nearest even. */
export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rem > mid || (rem === mid && half & 1) ? 1 : 0));
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** bfloat16: the high 16 bits of float32, round to nearest even. */
export function floatToBfloat16(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Raw bytes of values in the given dtype and byte order. */
export function encodeFloats(
  values: ArrayLike<number>,
  dtype: EmbedDtype,
  endianness: Endianness,
): Uint8Array {
  const little = endianness === "native" ? LITTLE_ENDIAN_HOST : endianness === "little";
  const width = dtype === "float32" ? 4 : 2;
  const out = new Uint8Array(values.length * width);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (dtype === "float32") view.setFloat32(4 * i, v, little);
    else view.setUint16(2 * i, dtype === "float16" ? floatToHalf(v) : floatToBfloat16(v), little);
  }
  return out;
}

export function encodeBase64(
  values: ArrayLike<number>,
  dtype: EmbedDtype = "float32",
  endianness: Endianness = "native",
): string {
  if (
    dtype === "float32" &&
    values instanceof Float32Array &&
    (endianness === "native" ? LITTLE_ENDIAN_HOST : endianness === "little") === LITTLE_ENDIAN_HOST
  ) {
    return bytesToBase64(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return bytesToBase64(encodeFloats(values, dtype, endianness));
}

/**
 * A float vector as a plain array of doubles, copied by index: `Array.from` walks a typed array
 * through its iterator, one result object and one boxed number per element (~16 KB of garbage for
 * 384 floats, the largest share of a server's allocations at c=64).
 */
export function toNumbers(values: Float32Array): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]!;
  return out;
}

/** Round to int8 over the fixed range [-1, 1] (unit-normalized embeddings). */
export function quantizeInt8(values: ArrayLike<number>): number[] {
  return Array.from(values, (v) => Math.max(-128, Math.min(127, Math.round(v * 127))));
}

export function quantizeUint8(values: ArrayLike<number>): number[] {
  return Array.from(values, (v) => Math.max(0, Math.min(255, Math.round((v + 1) * 127.5))));
}

/** Sign bits packed 8 per byte, most significant first (numpy.packbits of `v > 0`). */
export function packBits(values: ArrayLike<number>, signed: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i += 8) {
    let byte = 0;
    for (let b = 0; b < 8; b++)
      byte = (byte << 1) | (i + b < values.length && values[i + b]! > 0 ? 1 : 0);
    out.push(signed ? byte - 128 : byte);
  }
  return out;
}
