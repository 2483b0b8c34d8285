// The cold-start floor: load the tokenizer and the ONNX session and run one sentence, nothing else.
// Plain JavaScript run by node, so that nothing but the work itself is timed. Prints one JSON line
// {"floor": {...}}: ms since the process started at the end of each step, and mainCpu: the main
// thread's CPU time (user + system, ms) until the run's end.
// Usage: node floor.mjs MODEL_DIR [GRAPH] (GRAPH: default MODEL_DIR/onnx/model.onnx)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import * as ort from "onnxruntime-node";

const imported = performance.now();
const dir = process.argv[2];
const read = (f) => JSON.parse(readFileSync(join(dir, f), "utf8"));
const tok = new Tokenizer(read("tokenizer.json"), read("tokenizer_config.json"));
const tokenizer = performance.now();
const session = await ort.InferenceSession.create(
  process.argv[3] ?? join(dir, "onnx", "model.onnx"),
);
const created = performance.now();
const ids = tok.encode("A girl is styling her hair.").ids;
const n = ids.length;
await session.run({
  input_ids: new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), [1, n]),
  attention_mask: new ort.Tensor("int64", new BigInt64Array(n).fill(1n), [1, n]),
  token_type_ids: new ort.Tensor("int64", new BigInt64Array(n), [1, n]),
});
const ran = performance.now();
const cpu = process.threadCpuUsage();
const mainCpu = (cpu.user + cpu.system) / 1000;
console.log(
  JSON.stringify({ floor: { imported, tokenizer, session: created, run: ran, mainCpu } }),
);
