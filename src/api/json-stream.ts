import type { Ctx } from "./context.js";

/** Answers estimated above this many bytes are streamed instead of built as one string. */
export const STREAM_ABOVE_BYTES = 1024 * 1024;
const CHUNK = 64 * 1024;

type Json = unknown;

function scalar(value: Json): string {
  // JSON.stringify's text for numbers (non-finite as null), strings, booleans and null.
  return JSON.stringify(value) ?? "null";
}

/** JSON text in pieces, the same text as `JSON.stringify` (typed arrays written as arrays). */
export function* jsonPieces(value: Json): Generator<string> {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const numbers = value as unknown as ArrayLike<number>;
    let text = "[";
    for (let i = 0; i < numbers.length; i++) {
      const v = numbers[i]!;
      text += `${i === 0 ? "" : ","}${Number.isFinite(v) ? v : "null"}`;
      if (text.length >= CHUNK) {
        yield text;
        text = "";
      }
    }
    yield `${text}]`;
  } else if (Array.isArray(value)) {
    yield "[";
    for (let i = 0; i < value.length; i++) {
      if (i > 0) yield ",";
      yield* jsonPieces(value[i] === undefined ? null : value[i]);
    }
    yield "]";
  } else if (typeof value === "object" && value !== null && !("toJSON" in value)) {
    // Plain objects only: anything with toJSON (dates) is a scalar below.
    yield "{";
    let first = true;
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined || typeof v === "function") continue;
      yield `${first ? "" : ","}${JSON.stringify(k)}:`;
      first = false;
      yield* jsonPieces(v);
    }
    yield "}";
  } else {
    yield scalar(value);
  }
}

/** A byte stream of `value`'s JSON text in ~64 KB chunks, produced as the client reads. */
export function jsonStream(value: Json): ReadableStream<Uint8Array> {
  const pieces = jsonPieces(value);
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      let text = "";
      for (let r = pieces.next(); ; r = pieces.next()) {
        if (r.done) {
          if (text) controller.enqueue(encoder.encode(text));
          controller.close();
          return;
        }
        text += r.value;
        if (text.length >= CHUNK) break;
      }
      controller.enqueue(encoder.encode(text));
    },
  });
}

/**
 * A JSON answer: built as one string when small, streamed when the request's estimated output
 * (recorded when it was checked against the response limit) is large.
 */
export function jsonResponse(c: Ctx, value: Json): Response {
  const type = { "content-type": "application/json" };
  if ((c.get("outputBytes") ?? 0) > STREAM_ABOVE_BYTES) return c.body(jsonStream(value), 200, type);
  return c.body([...jsonPieces(value)].join(""), 200, type);
}
