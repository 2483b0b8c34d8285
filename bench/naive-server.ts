// A naive transformers.js embedding server: Hono + one pipeline call per request, as many
// JavaScript services do today. Used only as a baseline by bench/run.ts.
import { basename, dirname } from "node:path";
import { serve } from "@hono/node-server";
import { env, pipeline } from "@huggingface/transformers";
import { Hono } from "hono";

const [modelDir, port] = process.argv.slice(2);
if (!modelDir || !port) throw new Error("usage: naive-server.ts MODEL_DIR PORT");
env.allowRemoteModels = false;
env.localModelPath = `${dirname(modelDir)}/`;
const extractor = await pipeline("feature-extraction", basename(modelDir), {
  dtype: "fp32",
  local_files_only: true,
});
const app = new Hono();
app.post("/v1/embeddings", async (c) => {
  const { input } = (await c.req.json()) as { input: string | string[] };
  const out = await extractor(input, { pooling: "mean", normalize: true });
  const vectors = out.tolist() as number[][];
  return c.json({
    object: "list",
    data: vectors.map((embedding, index) => ({ index, object: "embedding", embedding })),
  });
});
serve({ fetch: app.fetch, hostname: "127.0.0.1", port: Number(port) });
