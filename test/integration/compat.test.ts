import { InferenceClient } from "@huggingface/inference";
import { CohereClient, CohereClientV2 } from "cohere-ai";
import { CohereClient as CohereClientV7 } from "cohere-ai-v7";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LLM } from "../../src/index.js";
import { fixture, goldenCase, maxAbsDiff } from "../helpers/fixtures.js";
import { getJson, postJson, type RunningServer, startServer } from "../helpers/server.js";

const TEXTS = ["hello world", "the quick brown fox jumps over the lazy dog", "a cat"];
const QUERY = "what is the capital of france?";
const DOCS = [
  "paris is the capital of france",
  "berlin is a city in germany",
  "the cat sat on the mat",
];

describe("what clients migrating from TEI, Cohere and vLLM use", () => {
  const servers: Record<string, RunningServer> = {};
  const offline: Record<string, LLM> = {};
  const url = (name: string, path = "") => `${servers[name]!.url}${path}`;

  beforeAll(async () => {
    const models = {
      embed: ["bert-embed-mean"],
      classifier: ["bert-classifier"],
      cross: ["bert-cross-encoder"],
      tokens: ["bert-token-classifier", "--pooler-config", '{"pooling_type":"STEP"}'],
    };
    await Promise.all(
      Object.entries(models).map(async ([name, [model, ...extra]]) => {
        servers[name] = await startServer([
          "--model",
          fixture(model!),
          "--served-model-name",
          name,
          ...extra,
        ]);
        offline[name] = await LLM.load({ model: fixture(model!) });
      }),
    );
  });
  afterAll(async () => {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
    for (const llm of Object.values(offline)) await llm.close();
  });

  describe("@huggingface/inference pointed at the server", () => {
    const hf = new InferenceClient();

    it("featureExtraction at the root, /invocations and /embed equals the offline embeddings", async () => {
      const expected = (await offline.embed!.embed(TEXTS)).map((r) => r.outputs.embedding);
      for (const path of ["", "/invocations", "/embed"]) {
        const got = await hf.featureExtraction({ endpointUrl: url("embed", path), inputs: TEXTS });
        expect(maxAbsDiff(got, expected)).toBeLessThan(1e-6);
      }
    });

    it("sentenceSimilarity at the root and at /similarity", async () => {
      const [source, ...others] = (await offline.embed!.embed([QUERY, ...DOCS])).map(
        (r) => r.outputs.embedding,
      );
      const cos = others.map((v) => v.reduce((s, x, i) => s + x * source![i]!, 0));
      for (const path of ["", "/similarity"]) {
        const got = await hf.sentenceSimilarity({
          endpointUrl: url("embed", path),
          inputs: { source_sentence: QUERY, sentences: DOCS },
        });
        expect(maxAbsDiff(got, cos)).toBeLessThan(1e-5);
      }
    });

    it("textClassification at the root: labels and probabilities of the offline classifier", async () => {
      const [probs] = (await offline.classifier!.classify("great movie")).map(
        (r) => r.outputs.probs,
      );
      const got = await hf.textClassification({
        endpointUrl: url("classifier"),
        inputs: "great movie",
      });
      const byLabel = Object.fromEntries(got.map((p) => [p.label, p.score]));
      expect(byLabel.negative).toBeCloseTo(probs![0]!, 6);
      expect(byLabel.positive).toBeCloseTo(probs![2]!, 6);
      const top = await hf.textClassification({
        endpointUrl: url("classifier"),
        inputs: "great movie",
        parameters: { top_k: 1 },
      });
      expect(top).toHaveLength(1);
      await expect(
        hf.textClassification({
          endpointUrl: url("classifier"),
          inputs: "great movie",
          parameters: { function_to_apply: "sigmoid" },
        }),
      ).rejects.toThrow("function_to_apply 'sigmoid' is not this model's");
    });
  });

  describe("TEI routes", () => {
    it("GET /info in TEI's shape", async () => {
      const { body: embed } = await getJson(url("embed", "/info"));
      expect(embed).toMatchObject({
        model_id: "embed",
        model_dtype: "float32",
        model_type: { embedding: { pooling: "mean" } },
        max_input_length: 64,
        max_client_batch_size: 2048,
        auto_truncate: false,
      });
      // The CPU's default budget of padded tokens per micro-batch.
      expect(embed).toHaveProperty("max_batch_tokens");
      expect(embed.max_batch_tokens).toBe(1024);
      const { body: cross } = await getJson(url("cross", "/info"));
      expect(cross.model_type).toEqual({
        reranker: { id2label: { 0: "LABEL_0" }, label2id: { LABEL_0: 0 } },
      });
      const { body: classifier } = await getJson(url("classifier", "/info"));
      expect(Object.keys(classifier.model_type)).toEqual(["classifier"]);
    });

    it("/predict takes TEI's batch form [[text], [text_a, text_b]]", async () => {
      const res = await postJson(url("cross", "/predict"), {
        inputs: [["a cat"], [QUERY, DOCS[0]]],
      });
      expect(res.status).toBe(200);
      expect(res.body).toHaveLength(2);
      const [pair] = await offline.cross!.score(QUERY, [DOCS[0]!]);
      expect(res.body[1][0].score).toBeCloseTo(pair!.outputs.score, 6);
      const [single] = await offline.cross!.classify("a cat");
      expect(res.body[0][0].score).toBeCloseTo(single!.outputs.probs[0]!, 6);
    });

    it("the root reranks a TEI rerank body on a reranker", async () => {
      const res = await postJson(url("cross"), { query: QUERY, texts: DOCS });
      expect(res.status).toBe(200);
      expect(res.body[0]).toHaveProperty("score");
      expect(res.body.map((r: { index: number }) => r.index).sort()).toEqual([0, 1, 2]);
    });

    it("errors on TEI routes are TEI's: {error, error_type} with 422 for validation", async () => {
      const bad = await postJson(url("embed", "/embed"), { inputs: 5 });
      expect(bad.status).toBe(422);
      expect(bad.body).toEqual({ error: expect.any(String), error_type: "Validation" });
      const empty = await postJson(url("embed", "/embed"), { inputs: [] });
      expect(empty.status).toBe(422);
      const notServed = await postJson(url("embed", "/predict"), { inputs: "a" });
      expect(notServed.status).toBe(424);
      expect(notServed.body.error_type).toBe("Backend");
      const rerank = await postJson(url("cross", "/rerank"), { query: 5, texts: DOCS });
      expect(rerank.status).toBe(422);
      expect(rerank.body.error_type).toBe("Validation");
      const unknownParameter = await postJson(url("embed"), {
        inputs: "a",
        parameters: { pooling: "max" },
      });
      expect(unknownParameter.status).toBe(422);
      expect(unknownParameter.body.error).toContain("parameters.pooling is not supported");
      // vLLM/OpenAI routes keep their shape.
      const openai = await postJson(url("embed", "/v1/embeddings"), { input: [] });
      expect(openai.status).toBe(400);
      expect(openai.body.error.type).toBe("BadRequestError");
      const cohereRerank = await postJson(url("cross", "/rerank"), {
        query: QUERY,
        documents: [],
      });
      expect(cohereRerank.status).toBe(400);
      expect(cohereRerank.body.error.code).toBe(400);
    });
  });

  describe("Cohere", () => {
    it("v1 embed through CohereClient (v1 API): embeddings_floats, and by type", async () => {
      const client = new CohereClient({ token: "none", environment: url("embed") });
      const res = await client.embed({ model: "embed", texts: DOCS, inputType: "search_document" });
      expect(res.responseType).toBe("embeddings_floats");
      const expected = (await offline.embed!.embed(DOCS)).map((r) => r.outputs.embedding);
      expect(maxAbsDiff(res.embeddings, expected)).toBeLessThan(1e-6);
      const byType = await client.embed({
        model: "embed",
        texts: DOCS,
        embeddingTypes: ["float", "int8"],
      });
      expect(byType.responseType).toBe("embeddings_by_type");
      if (byType.responseType === "embeddings_by_type") {
        expect(maxAbsDiff(byType.embeddings.float, expected)).toBeLessThan(1e-6);
        expect(byType.embeddings.int8![0]).toHaveLength(32);
      }
    });

    it("cohere-ai v7's CohereClient: v1 embed and rerank", async () => {
      const embedClient = new CohereClientV7({ token: "none", environment: url("embed") });
      const res = await embedClient.embed({
        model: "embed",
        texts: DOCS,
        inputType: "search_query",
      });
      // search_query selects the model's sentence-transformers "query" prompt ("query: ").
      const queries = DOCS.map((d) => `query: ${d}`);
      const expected = (await offline.embed!.embed(queries)).map((r) => r.outputs.embedding);
      expect(res.responseType).toBe("embeddings_floats");
      expect(maxAbsDiff(res.embeddings, expected)).toBeLessThan(1e-6);
      const rerankClient = new CohereClientV7({ token: "none", environment: url("cross") });
      const ranked = await rerankClient.rerank({ model: "cross", query: QUERY, documents: DOCS });
      const scores = (await offline.cross!.score(QUERY, DOCS)).map((r) => r.outputs.score);
      for (const r of ranked.results) {
        expect(r.relevanceScore).toBeCloseTo(scores[r.index]!, 6);
      }
    });

    it("v2 embed with inputs (text content parts) equals texts; images refused", async () => {
      const client = new CohereClientV2({ token: "none", environment: url("embed") });
      const res = await client.embed({
        model: "embed",
        inputType: "search_document",
        embeddingTypes: ["float"],
        inputs: DOCS.map((text) => ({ content: [{ type: "text", text }] })),
      });
      const expected = (await offline.embed!.embed(DOCS)).map((r) => r.outputs.embedding);
      expect(maxAbsDiff(res.embeddings.float, expected)).toBeLessThan(1e-6);
      const image = await postJson(url("embed", "/v2/embed"), {
        inputs: [{ content: [{ type: "image_url", image_url: { url: "data:," } }] }],
        embedding_types: ["float"],
      });
      expect(image.status).toBe(400);
      expect(image.body.error.message).toContain("only text parts are supported");
    });

    it("rerank max_tokens_per_doc cuts each document to its first tokens", async () => {
      const client = new CohereClientV2({ token: "none", environment: url("cross") });
      const long = `${DOCS[0]} and the quick brown fox jumps over the lazy dog`;
      const res = await client.rerank({
        model: "cross",
        query: QUERY,
        documents: [long],
        maxTokensPerDoc: 6,
      });
      const [cut] = await offline.cross!.score(QUERY, [DOCS[0]!]);
      expect(res.results[0]!.relevanceScore).toBeCloseTo(cut!.outputs.score, 6);
    });
  });

  describe("vLLM parameters", () => {
    it("deprecated normalize/softmax/activation act as use_activation, with a Warning header", async () => {
      const raw = goldenCase("bert-classifier", "classify useActivation=false");
      const res = await postJson(url("classifier", "/classify"), {
        input: raw.prompts!.map((p) => p.promptTokenIds),
        softmax: false,
      });
      expect(res.status).toBe(200);
      expect(
        maxAbsDiff(
          res.body.data.map((d: { probs: number[] }) => d.probs),
          raw.expected,
        ),
      ).toBeLessThan(1e-4);
      expect(res.headers.get("warning")).toContain("'softmax' is deprecated");
      const embed = await postJson(url("embed", "/v1/embeddings"), {
        input: "a cat",
        normalize: false,
      });
      expect(embed.headers.get("warning")).toContain("'normalize' is deprecated");
    });

    it("encoding_format bytes / bytes_only: raw little-endian floats, metadata header for bytes", async () => {
      const expected = (await offline.embed!.embed(TEXTS)).map((r) => r.outputs.embedding);
      const res = await fetch(url("embed", "/v1/embeddings"), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ input: TEXTS, encoding_format: "bytes", endianness: "little" }),
      });
      expect(res.headers.get("content-type")).toBe("application/octet-stream");
      const meta = JSON.parse(res.headers.get("metadata")!);
      const buf = Buffer.from(await res.arrayBuffer());
      const got = meta.data.map((d: { start: number; end: number }) => {
        const part = buf.subarray(d.start, d.end);
        return Array.from({ length: part.length / 4 }, (_, i) => part.readFloatLE(4 * i));
      });
      expect(maxAbsDiff(got, expected)).toBeLessThan(1e-6);
      expect(meta).toMatchObject({ object: "list", model: "embed", usage: { prompt_tokens: 19 } });
      expect(meta.data[0]).toMatchObject({ index: 0, shape: [32], embed_dtype: "float32" });
      const only = await fetch(url("embed", "/pooling"), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          input: TEXTS,
          encoding_format: "bytes_only",
          embed_dtype: "float16",
        }),
      });
      expect(only.headers.get("metadata")).toBeNull();
      expect((await only.arrayBuffer()).byteLength).toBe(3 * 32 * 2);
      const fp8 = await postJson(url("embed", "/v1/embeddings"), {
        input: "a cat",
        encoding_format: "base64",
        embed_dtype: "fp8_e4m3",
      });
      expect(fp8.status).toBe(400);
      expect(fp8.body.error.message).toContain("embed_dtype 'fp8_e4m3' is not supported yet");
    });

    it("parameters outside the task are refused with vLLM's message", async () => {
      const res = await postJson(url("classifier", "/pooling"), {
        input: "a cat",
        task: "classify",
        dimensions: 8,
      });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toBe(
        "Task classify only supports ['use_activation'] parameters, does not support ['dimensions'] parameters",
      );
    });

    it("dimensions on /classify and /score is refused; unknown fields are named in a warning", async () => {
      const classify = await postJson(url("classifier", "/classify"), {
        input: "a cat",
        dimensions: 8,
      });
      expect(classify.status).toBe(400);
      expect(classify.body.error.message).toContain("does not support ['dimensions'] parameters");
      const score = await postJson(url("cross", "/score"), {
        text_1: "a",
        text_2: "b",
        dimensions: 8,
      });
      expect(score.body.error.message).toBe(
        "Task score only supports ['use_activation'] parameters, does not support ['dimensions'] parameters",
      );
      const unknown = await postJson(url("embed", "/v1/embeddings"), {
        input: "a cat",
        pooling: "max",
        normalise: true,
      });
      expect(unknown.status).toBe(200);
      expect(unknown.headers.get("warning")).toContain(
        "The following fields were present in the request but ignored: {'pooling', 'normalise'}",
      );
    });

    it("per-request step_tag_id and returned_token_ids on /pooling", async () => {
      const step = goldenCase("bert-token-classifier", "token_classify STEP");
      const res = await postJson(url("tokens", "/pooling"), {
        input: step.prompts!.map((p) => p.promptTokenIds),
        task: "token_classify",
        step_tag_id: 18,
        returned_token_ids: [1, 3],
      });
      expect(res.status).toBe(200);
      expect(
        maxAbsDiff(
          res.body.data.map((d: { data: number[][] }) => d.data),
          step.expected,
        ),
      ).toBeLessThan(1e-4);
    });
  });
});
