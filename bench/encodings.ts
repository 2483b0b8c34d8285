/**
 * Response encodings of /v1/embeddings compared in one process, interleaved: JSON floats,
 * base64 (float32, float16) and vLLM's raw `bytes`. Reports bytes on the wire per vector and the
 * time to encode a batch, as ratios to JSON floats.
 *
 *   node --import tsx bench/encodings.ts [--dim 384] [--batch 64] [--rounds 200]
 */
import { parseArgs } from "node:util";
import { floatsJson } from "../src/api/format.js";
import { encodeBase64, encodeFloats, l2Normalize } from "../src/core/index.js";

const { values } = parseArgs({
  options: {
    dim: { type: "string", default: "384" },
    batch: { type: "string", default: "64" },
    rounds: { type: "string", default: "200" },
  },
});
const dim = Number(values.dim);
const batch = Number(values.batch);
const rounds = Number(values.rounds);

let seed = 1;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648 - 0.5;
};
const vectors = Array.from({ length: batch }, () =>
  l2Normalize(Float32Array.from({ length: dim }, random)),
);

const formats: Record<string, () => number> = {
  "float (JSON)": () => vectors.reduce((n, v) => n + floatsJson(v).length, 0),
  "base64 float32": () => vectors.reduce((n, v) => n + encodeBase64(v).length + 2, 0),
  "base64 float16": () => vectors.reduce((n, v) => n + encodeBase64(v, "float16").length + 2, 0),
  "bytes float32": () =>
    vectors.reduce((n, v) => n + encodeFloats(v, "float32", "little").length, 0),
};

const time: Record<string, number> = Object.fromEntries(Object.keys(formats).map((k) => [k, 0]));
const size: Record<string, number> = {};
for (let r = 0; r < rounds; r++) {
  for (const [name, run] of Object.entries(formats)) {
    const start = performance.now();
    size[name] = run();
    time[name]! += performance.now() - start;
  }
}
const base = "float (JSON)";
console.log(`dim ${dim}, batch ${batch}, ${rounds} interleaved rounds`);
for (const name of Object.keys(formats)) {
  console.log(
    `${name.padEnd(16)} ${String(Math.round(size[name]! / batch)).padStart(6)} B/vector  ` +
      `${(time[name]! / rounds).toFixed(3)} ms/batch  size ×${(size[name]! / size[base]!).toFixed(2)}  time ×${(time[name]! / time[base]!).toFixed(2)}`,
  );
}
