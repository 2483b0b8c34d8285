import { type Endianness, encodeFloats, type PooledOutput } from "../core/index.js";
import type { Ctx } from "./context.js";
import { checkEmbedDtype, flatten } from "./format.js";

/** vLLM's binary encodings: raw bytes in the body, with (`bytes`) or without (`bytes_only`) metadata. */
export type BinaryFormat = "bytes" | "bytes_only";

export function isBinaryFormat(format: string | null | undefined): format is BinaryFormat {
  return format === "bytes" || format === "bytes_only";
}

export interface Envelope {
  id: string;
  object: string;
  created: number;
  model: string;
  usage: unknown;
}

/**
 * The outputs' raw bytes, concatenated in input order (`application/octet-stream`). With `bytes`,
 * a `metadata` header holds the envelope and, per output, its byte range and shape.
 */
export function binaryResponse(
  c: Ctx,
  format: BinaryFormat,
  envelope: Envelope,
  outputs: readonly PooledOutput[],
  opts: { embed_dtype?: string | null; endianness?: Endianness | null },
): Response {
  const dtype = checkEmbedDtype(opts.embed_dtype);
  const endianness = opts.endianness ?? "native";
  const parts = outputs.map((o) =>
    encodeFloats(Array.isArray(o) ? flatten(o) : o, dtype, endianness),
  );
  const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  const data = [];
  let at = 0;
  for (const [index, part] of parts.entries()) {
    body.set(part, at);
    const o = outputs[index]!;
    const shape = Array.isArray(o) ? [o.length, o[0]?.length ?? 0] : [o.length];
    data.push({ index, embed_dtype: dtype, endianness, start: at, end: at + part.length, shape });
    at += part.length;
  }
  c.header("content-type", "application/octet-stream");
  if (format === "bytes") c.header("metadata", JSON.stringify({ ...envelope, data }));
  return c.body(body);
}
