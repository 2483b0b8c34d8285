import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { splitModels } from "../../src/cli/multi-model.js";
import { fixture } from "../helpers/fixtures.js";
import { type RunningServer, startServer } from "../helpers/server.js";

const QUERY = "what is the capital of france?";
const DOCS = ["paris is the capital of france", "the cat sat on the mat"];

async function post(server: RunningServer, path: string, body: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("splitModels", () => {
  it("takes the later --model flags, each with the --served-model-name right after it", () => {
    expect(
      splitModels([
        "--model",
        "a",
        "--served-model-name",
        "A",
        "--model=b",
        "--model",
        "c",
        "--served-model-name=C",
        "--port",
        "0",
      ]),
    ).toEqual({
      argv: ["--model", "a", "--served-model-name", "A", "--port", "0"],
      extras: [
        { model: "b", servedModelName: "b" },
        { model: "c", servedModelName: "C" },
      ],
    });
  });
});

describe("several models in one server", () => {
  let multi: RunningServer;
  let embedOnly: RunningServer;
  let rerankOnly: RunningServer;

  beforeAll(async () => {
    [multi, embedOnly, rerankOnly] = await Promise.all([
      startServer([
        "--model",
        fixture("bert-embed-mean"),
        "--served-model-name",
        "embed",
        "--model",
        fixture("bert-cross-encoder"),
        "--served-model-name",
        "rerank",
      ]),
      startServer(["--model", fixture("bert-embed-mean"), "--served-model-name", "embed"]),
      startServer(["--model", fixture("bert-cross-encoder"), "--served-model-name", "rerank"]),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([multi?.stop(), embedOnly?.stop(), rerankOnly?.stop()]);
  });

  it("lists both models with what each cost to load, and is healthy once both are loaded", async () => {
    expect((await fetch(`${multi.url}/health`)).status).toBe(200);
    const list = (await (await fetch(`${multi.url}/v1/models`)).json()) as {
      data: { id: string; memory: { onnx_bytes: number; rss_delta_bytes: number } }[];
    };
    expect(list.data.map((m) => m.id)).toEqual(["embed", "rerank"]);
    for (const m of list.data) expect(m.memory.onnx_bytes).toBeGreaterThan(0);
    const loaded = multi.logs.filter((l) => l.includes('"model loaded"'));
    expect(loaded).toHaveLength(2);
  });

  it("routes embeddings and rerank by model, with the single-model servers' outputs", async () => {
    const embedBody = { model: "embed", input: DOCS };
    const rerankBody = { model: "rerank", query: QUERY, documents: DOCS };
    const [e1, e2, r1, r2, dflt] = await Promise.all([
      post(multi, "/v1/embeddings", embedBody),
      post(embedOnly, "/v1/embeddings", embedBody),
      post(multi, "/v1/rerank", rerankBody),
      post(rerankOnly, "/v1/rerank", rerankBody),
      post(multi, "/v1/embeddings", { input: DOCS }),
    ]);
    expect([e1.status, r1.status, dflt.status]).toEqual([200, 200, 200]);
    expect(e1.body.data).toEqual(e2.body.data);
    expect(r1.body.results).toEqual(r2.body.results);
    expect(r1.body.model).toBe("rerank");
    // No model → the first model, as a single-model server.
    expect(dflt.body.data).toEqual(e2.body.data);
  });

  it("answers an unknown model with 404, in the single-model server's shape", async () => {
    const unknown = await post(multi, "/v1/embeddings", { model: "nope", input: "x" });
    expect(unknown.status).toBe(404);
    expect(JSON.stringify(unknown.body)).toContain("nope");
    // The same shape as a single-model server's answer to a wrong name.
    const single = await post(embedOnly, "/v1/embeddings", { model: "nope", input: "x" });
    expect(single.status).toBe(404);
    expect(Object.keys(unknown.body).sort()).toEqual(Object.keys(single.body).sort());
    const rerankUnknown = await post(multi, "/v1/rerank", {
      model: "nope",
      query: QUERY,
      documents: DOCS,
    });
    expect(rerankUnknown.status).toBe(404);
  });
});
