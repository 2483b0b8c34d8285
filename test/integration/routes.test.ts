import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LLM } from "../../src/index.js";
import { fixture, maxAbsDiff } from "../helpers/fixtures.js";
import { postJson, type RunningServer, startServer } from "../helpers/server.js";

const TEXTS = ["hello world", "the quick brown fox jumps over the lazy dog", "a cat"];

function decodeBase64(text: string, dtype: "float32" | "float16" = "float32"): number[] {
  const buf = Buffer.from(text, "base64");
  if (dtype === "float32")
    return Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4));
  const out: number[] = [];
  for (let i = 0; i < buf.length; i += 2) {
    const h = buf.readUInt16LE(i);
    const e = (h >> 10) & 31;
    const m = h & 1023;
    const v = e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15);
    out.push(h & 0x8000 ? -v : v);
  }
  return out;
}

const norm = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const softmax = (v: number[]) => {
  const m = Math.max(...v);
  const e = v.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
};
const sigmoid = (v: number[]) => v.map((x) => 1 / (1 + Math.exp(-x)));

describe("HTTP routes", () => {
  const servers: Record<string, RunningServer> = {};
  const url = (name: string, path: string) => `${servers[name]!.url}${path}`;

  beforeAll(async () => {
    const start = async (name: string, model: string, extra: string[] = []) => {
      servers[name] = await startServer([
        "--model",
        fixture(model),
        "--served-model-name",
        name,
        ...extra,
      ]);
    };
    await Promise.all([
      start("embed", "bert-embed-mean"),
      start("classifier", "bert-classifier"),
      start("multilabel", "bert-multilabel"),
      start("cross", "bert-cross-encoder"),
      start("tokens", "bert-token-classifier"),
      start("decoder", "decoder-embed-last"),
    ]);
  });
  afterAll(async () => {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  });

  it("/v1/embeddings: use_activation=false then normalize equals the default", async () => {
    const def = await postJson(url("embed", "/v1/embeddings"), { input: TEXTS });
    const raw = await postJson(url("embed", "/embeddings"), {
      input: TEXTS,
      use_activation: false,
    });
    expect(def.status).toBe(200);
    def.body.data.forEach((d: { embedding: number[] }, i: number) => {
      expect(maxAbsDiff(norm(raw.body.data[i].embedding), d.embedding)).toBeLessThan(1e-6);
    });
  });

  it("/v1/embeddings: base64 decodes to the float response; float16 and big-endian too", async () => {
    const float = await postJson(url("embed", "/v1/embeddings"), {
      input: TEXTS,
      encoding_format: "float",
    });
    const b64 = await postJson(url("embed", "/v1/embeddings"), {
      input: TEXTS,
      encoding_format: "base64",
    });
    const f16 = await postJson(url("embed", "/v1/embeddings"), {
      input: TEXTS,
      encoding_format: "base64",
      embed_dtype: "float16",
    });
    const big = await postJson(url("embed", "/v1/embeddings"), {
      input: TEXTS,
      encoding_format: "base64",
      endianness: "big",
    });
    float.body.data.forEach((d: { embedding: number[] }, i: number) => {
      expect(maxAbsDiff(decodeBase64(b64.body.data[i].embedding), d.embedding)).toBe(0);
      expect(
        maxAbsDiff(decodeBase64(f16.body.data[i].embedding, "float16"), d.embedding),
      ).toBeLessThan(1e-3);
      const bytes = Buffer.from(big.body.data[i].embedding, "base64");
      const swapped = Buffer.from(bytes).swap32();
      expect(
        maxAbsDiff(
          Array.from(new Float32Array(swapped.buffer, swapped.byteOffset, d.embedding.length)),
          d.embedding,
        ),
      ).toBe(0);
    });
  });

  it("/v1/embeddings with chat messages renders the chat template", async () => {
    const messages = [{ role: "user", content: "what is deep learning" }];
    const chat = await postJson(url("decoder", "/v1/embeddings"), {
      messages,
      encoding_format: "float",
    });
    expect(chat.status).toBe(200);
    const rendered = "<|im_start|>user\nwhat is deep learning<|im_end|>\n";
    const plain = await postJson(url("decoder", "/v1/embeddings"), {
      input: rendered,
      add_special_tokens: false,
      encoding_format: "float",
    });
    expect(maxAbsDiff(chat.body.data[0].embedding, plain.body.data[0].embedding)).toBe(0);
    const both = await postJson(url("decoder", "/v1/embeddings"), {
      messages,
      add_generation_prompt: true,
      continue_final_message: true,
    });
    expect(both.status).toBe(400);
    const tok = await postJson(url("decoder", "/tokenize"), {
      messages,
      add_generation_prompt: true,
    });
    const detok = await postJson(url("decoder", "/detokenize"), { tokens: tok.body.tokens });
    expect(detok.body.prompt).toBe(`${rendered}<|im_start|>assistant\n`);
  });

  it("/pooling serves every task of the model, token tasks as [tokens][dim]", async () => {
    const emb = await postJson(url("embed", "/pooling"), { input: TEXTS, task: "embed" });
    expect(emb.body.data[0]).toMatchObject({ index: 0, object: "pooling" });
    expect(emb.body.data[0].data).toHaveLength(32);
    const tok = await postJson(url("embed", "/pooling"), {
      input: "hello world",
      task: "token_embed",
    });
    expect(tok.body.data[0].data).toHaveLength(4);
    expect(tok.body.data[0].data[0]).toHaveLength(32);
    const cls = await postJson(url("tokens", "/pooling"), {
      input: "hello world",
      task: "token_classify",
    });
    expect(cls.body.data[0].data).toHaveLength(4);
    expect(cls.body.data[0].data[0]).toHaveLength(5);
    const bad = await postJson(url("classifier", "/pooling"), { input: "x", task: "embed" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^Unsupported task: 'embed'/);
    const plugin = await postJson(url("embed", "/pooling"), { input: "x", task: "plugin" });
    expect(plugin.body.error.message).toMatch(/^Unsupported task: 'plugin'/);
  });

  it("/classify: labels, softmax and sigmoid equal activation of the raw logits", async () => {
    const def = await postJson(url("classifier", "/classify"), { input: TEXTS });
    const raw = await postJson(url("classifier", "/classify"), {
      input: TEXTS,
      use_activation: false,
    });
    def.body.data.forEach(
      (d: { probs: number[]; label: string; num_classes: number }, i: number) => {
        expect(d.num_classes).toBe(3);
        expect(["negative", "neutral", "positive"]).toContain(d.label);
        expect(d.label).toBe(
          ["negative", "neutral", "positive"][d.probs.indexOf(Math.max(...d.probs))],
        );
        expect(maxAbsDiff(softmax(raw.body.data[i].probs), d.probs)).toBeLessThan(1e-6);
      },
    );
    const ml = await postJson(url("multilabel", "/classify"), { input: TEXTS });
    const mlRaw = await postJson(url("multilabel", "/classify"), {
      input: TEXTS,
      use_activation: false,
    });
    expect(maxAbsDiff(sigmoid(mlRaw.body.data[0].probs), ml.body.data[0].probs)).toBeLessThan(1e-6);
  });

  it("/score: 1:1, 1:N, N:N under every field-name pair; equals the offline API", async () => {
    const llm = await LLM.load({ model: fixture("bert-cross-encoder") });
    try {
      const offline = (await llm.score("q", ["a cat", "a dog"])).map((r) => r.outputs.score);
      for (const [a, b] of [
        ["text_1", "text_2"],
        ["queries", "documents"],
        ["queries", "items"],
        ["data_1", "data_2"],
      ]) {
        const res = await postJson(url("cross", "/score"), { [a!]: "q", [b!]: ["a cat", "a dog"] });
        expect(res.status).toBe(200);
        expect(
          maxAbsDiff(
            res.body.data.map((d: { score: number }) => d.score),
            offline,
          ),
        ).toBeLessThan(1e-6);
        expect(res.body.data[1]).toMatchObject({ index: 1, object: "score" });
      }
      const one = await postJson(url("cross", "/v1/score"), { text_1: "q", text_2: "a cat" });
      expect(one.body.data).toHaveLength(1);
      const nn = await postJson(url("cross", "/score"), {
        text_1: ["q", "r"],
        text_2: ["a cat", "a dog"],
      });
      expect(nn.body.data).toHaveLength(2);
      const bad = await postJson(url("cross", "/score"), {
        text_1: ["q", "r"],
        text_2: ["a", "b", "c"],
      });
      expect(bad.body.error.message).toBe("Input lengths must be either 1:1, 1:N or N:N");
      const empty = await postJson(url("cross", "/score"), { text_1: [], text_2: ["a"] });
      expect(empty.body.error.message).toBe("At least one text element must be given");
    } finally {
      await llm.close();
    }
  });

  it("/score on an embedding model is the cosine of the embeddings", async () => {
    const res = await postJson(url("embed", "/score"), {
      text_1: "a cat",
      text_2: ["a cat", "a dog"],
    });
    expect(res.body.data[0].score).toBeCloseTo(1, 5);
    const e = await postJson(url("embed", "/v1/embeddings"), {
      input: ["a cat", "a dog"],
      encoding_format: "float",
    });
    const [x, y] = e.body.data.map((d: { embedding: number[] }) => d.embedding);
    const cos = x.reduce((s: number, v: number, i: number) => s + v * y[i], 0);
    expect(res.body.data[1].score).toBeCloseTo(cos, 6);
  });

  it("/rerank, /v1/rerank, /v2/rerank: sorted, top_n, return_documents", async () => {
    const docs = ["paris is the capital of france", "berlin is a city", "the cat sat"];
    for (const path of ["/rerank", "/v1/rerank", "/v2/rerank"]) {
      const all = await postJson(url("cross", path), {
        query: "capital of france",
        documents: docs,
      });
      const scores = all.body.results.map((r: { relevance_score: number }) => r.relevance_score);
      expect([...scores].sort((a: number, b: number) => b - a)).toEqual(scores);
      expect(all.body.results[0].document.text).toBe(docs[all.body.results[0].index]);
      const top = await postJson(url("cross", path), {
        query: "q",
        documents: docs,
        top_n: 1,
        return_documents: false,
      });
      expect(top.body.results).toHaveLength(1);
      expect(top.body.results[0].document).toBeUndefined();
      // The cross-encoder's run is timed like an embedding's.
      for (const h of ["x-tokenization-time", "x-inference-time", "x-compute-tokens"]) {
        expect(top.headers.has(h), h).toBe(true);
        expect(Number(top.headers.get(h)), h).toBeGreaterThan(0);
      }
    }
    const tei = await postJson(url("cross", "/rerank"), {
      query: "q",
      texts: docs,
      return_text: true,
    });
    expect(tei.body).toHaveLength(3);
    expect(tei.body[0]).toHaveProperty("text");
    expect(tei.body[0]).toHaveProperty("score");
  });

  it("TEI /embed, /embed_all, /similarity, /predict", async () => {
    const e = await postJson(url("embed", "/embed"), { inputs: ["a cat", "a dog"] });
    expect(e.body).toHaveLength(2);
    expect(Math.hypot(...e.body[0])).toBeCloseTo(1, 5);
    const raw = await postJson(url("embed", "/embed"), { inputs: "a cat", normalize: false });
    expect(maxAbsDiff(norm(raw.body[0]), e.body[0])).toBeLessThan(1e-6);
    const all = await postJson(url("embed", "/embed_all"), { inputs: "a cat" });
    expect(all.body[0]).toHaveLength(4);
    const sim = await postJson(url("embed", "/similarity"), {
      inputs: { source_sentence: "a cat", sentences: ["a cat", "a dog"] },
    });
    expect(sim.body[0]).toBeCloseTo(1, 5);
    const sparse = await postJson(url("embed", "/embed_sparse"), { inputs: "a cat" });
    expect(sparse.status).toBe(424);
    expect(sparse.body.error_type).toBe("Backend");
    const p = await postJson(url("classifier", "/predict"), { inputs: "a cat" });
    expect(p.body).toHaveLength(3);
    expect(p.body[0].score).toBeGreaterThanOrEqual(p.body[1].score);
    const batch = await postJson(url("classifier", "/predict"), {
      inputs: ["a cat", "a dog", "hello"],
    });
    expect(batch.body).toHaveLength(3);
    const pair = await postJson(url("cross", "/predict"), { inputs: ["q", "a cat"] });
    const score = await postJson(url("cross", "/score"), { text_1: "q", text_2: "a cat" });
    expect(pair.body[0].score).toBeCloseTo(score.body.data[0].score, 6);
  });

  it("/tokenize then /detokenize round-trips", async () => {
    const tok = await postJson(url("embed", "/tokenize"), {
      prompt: "hello world",
      return_token_strs: true,
    });
    expect(tok.body).toMatchObject({
      count: 4,
      max_model_len: 64,
      token_strs: ["[CLS]", "hello", "world", "[SEP]"],
    });
    const detok = await postJson(url("embed", "/detokenize"), { tokens: tok.body.tokens });
    expect(detok.body.prompt).toBe("[CLS] hello world [SEP]");
    const bare = await postJson(url("embed", "/tokenize"), {
      prompt: "hello world",
      add_special_tokens: false,
    });
    const back = await postJson(url("embed", "/detokenize"), { tokens: bare.body.tokens });
    expect(back.body.prompt).toBe("hello world");
    const oov = await postJson(url("embed", "/detokenize"), { tokens: [1e6] });
    expect(oov.status).toBe(400);
  });

  it("routes the model cannot serve answer 404 naming the task", async () => {
    const res = await postJson(url("classifier", "/score"), { text_1: "a", text_2: "b" });
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({ type: "NotFoundError", code: 404 });
    expect(res.body.error.message).toContain("score");
    expect(res.body.error.message).toContain("classifier");
    expect((await postJson(url("classifier", "/v1/embeddings"), { input: "a" })).status).toBe(404);
    expect((await postJson(url("embed", "/classify"), { input: "a" })).status).toBe(404);
    expect((await postJson(url("embed", "/rerank"), { query: "a", documents: ["b"] })).status).toBe(
      200,
    );
  });

  it("GET /v1/models, /health, /ping, /version, /metrics, /docs", async () => {
    const models = (await (await fetch(url("embed", "/v1/models"))).json()) as { data: unknown[] };
    expect(models.data[0]).toMatchObject({ id: "embed", object: "model", max_model_len: 64 });
    expect((await fetch(url("embed", "/health"))).status).toBe(200);
    expect((await fetch(url("embed", "/ping"))).status).toBe(200);
    expect(
      ((await (await fetch(url("embed", "/version"))).json()) as { version: string }).version,
    ).toMatch(/^\d+\.\d+\.\d+/);
    const metrics = await (await fetch(url("embed", "/metrics"))).text();
    expect(metrics).toContain("te_request_count");
    expect(metrics).toContain("te_request_duration");
    const docs = await fetch(url("embed", "/docs"));
    expect(docs.headers.get("content-type")).toContain("text/html");
    expect(await docs.text()).toContain('src="docs/swagger-ui-bundle.js"');
  });
});
