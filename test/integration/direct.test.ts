import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { acceptsEmbeddings, acceptsTeiEmbed } from "../../src/api/direct-routes.js";
import { createApp, ModelHost } from "../../src/api/index.js";
import { EmbeddingRequest } from "../../src/api/routes/openai.js";
import { TeiEmbedRequest } from "../../src/api/routes/tei.js";
import { type Engine, loadEngine } from "../../src/engine/index.js";
import { fixture } from "../helpers/fixtures.js";
import { type RunningServer, startServer } from "../helpers/server.js";

/** Requests the direct path takes: [path, body]. */
const TAKEN: Array<[string, unknown]> = [
  ["/v1/embeddings", { input: "hello world" }],
  ["/v1/embeddings", { input: ["a b", "the quick brown fox"], model: "m", encoding_format: null }],
  ["/embeddings", { input: "x y z", encoding_format: "base64", user: "u" }],
  ["/v1/embeddings", { input: "long ".repeat(600), truncate_prompt_tokens: -1 }],
  ["/embed", { inputs: ["a", "b c"], normalize: false, truncate: true }],
  ["/embed", { inputs: "one text" }],
];

/** Requests it leaves to the app, which answers them in the documented shapes. */
const LEFT: Array<[string, unknown, number]> = [
  ["/v1/embeddings", { input: "" }, 400],
  ["/v1/embeddings", { input: "a", unknown_field: 1 }, 200],
  ["/v1/embeddings", { input: [101, 102] }, 200],
  ["/v1/embeddings", { input: "a", model: "nope" }, 404],
  ["/v1/embeddings", { input: "a", dimensions: 8 }, 400],
  ["/v1/embeddings", { input: "long ".repeat(600) }, 400],
  ["/v1/embeddings", { messages: [{ role: "user", content: "hi" }] }, 200],
  ["/embed", { inputs: "" }, 422],
  ["/embed", { inputs: "a", prompt_name: "missing" }, 422],
];

/** Header names, and the values of those that do not change between runs (timings do). */
const headersOf = (res: Response) =>
  [...res.headers]
    .filter(([k]) => k !== "date")
    .map(([k, v]) => (k.startsWith("x-") && k !== "x-compute-tokens" ? k : `${k}: ${v}`));

/** The answer without what differs between two runs of one request (creation time). */
async function comparable(res: Response) {
  const body = (await res.json()) as Record<string, unknown>;
  if (body && typeof body === "object" && !Array.isArray(body)) delete body.created;
  return body;
}

describe("the direct path (in process): the same answer as the app", () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await loadEngine({ model: fixture("bert-embed-mean"), servedModelName: "m" });
  });
  afterAll(async () => {
    await engine.close();
  });

  const request = (path: string, body: string) => ({
    path,
    header: (name: string) => (name === "x-request-id" ? "req-1" : undefined),
    body,
    signal: new AbortController().signal,
    start: performance.now(),
  });

  it("answers the common requests itself, with the app's status, headers and body", async () => {
    const { app, direct } = createApp(ModelHost.ready(engine, ["m"]));
    expect(direct).not.toBeNull();
    for (const [path, body] of TAKEN) {
      const text = JSON.stringify(body);
      const answer = await direct!.answer(request(path, text));
      expect(answer, `${path} ${text.slice(0, 60)}`).not.toBeNull();
      const viaApp = await app.fetch(
        new Request(`http://x${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-request-id": "req-1" },
          body: text,
        }),
      );
      expect(answer!.status).toBe(viaApp.status);
      const names = answer!.headers.map(([k]) => k);
      expect(names).toEqual([...viaApp.headers.keys()]);
      expect(Object.fromEntries(answer!.headers)["x-request-id"]).toBe("req-1");
      expect(Object.fromEntries(answer!.headers)["x-compute-tokens"]).toBe(
        viaApp.headers.get("x-compute-tokens"),
      );
      expect(await comparable(new Response(answer!.body))).toEqual(await comparable(viaApp));
    }
  });

  it("leaves other shapes to the app (warnings, token ids, chat) and answers errors as the app does", async () => {
    const { app, direct } = createApp(ModelHost.ready(engine, ["m"]));
    let answered = 0;
    for (const [path, body, status] of LEFT) {
      const text = JSON.stringify(body);
      const answer = await direct!.answer(request(path, text));
      if (status === 200) {
        expect(answer, `${path} ${text.slice(0, 60)}`).toBeNull();
        continue;
      }
      // An error: left to the app before the route ran, or answered in the app's own shape.
      if (answer === null) continue;
      answered++;
      const viaApp = await app.fetch(
        new Request(`http://x${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-request-id": "req-1" },
          body: text,
        }),
      );
      expect(answer.status, `${path} ${text.slice(0, 60)}`).toBe(status);
      expect(viaApp.status).toBe(status);
      expect(answer.headers.map(([k]) => k)).toEqual([...viaApp.headers.keys()]);
      expect(JSON.parse(answer.body)).toEqual(await viaApp.json());
    }
    expect(answered).toBeGreaterThan(0);
    expect(await direct!.answer(request("/v1/embeddings", "{not json"))).toBeNull();
    expect(await direct!.answer(request("/pooling", '{"input":"a"}'))).toBeNull();
  });

  it("answers an error met while running in the app's shape, without running the request again", async () => {
    // A response over --max-response-bytes is refused after inference (413).
    const { app, direct } = createApp(ModelHost.ready(engine, ["m"]), { maxResponseBytes: 100 });
    const run = vi.spyOn(engine, "run");
    try {
      for (const [path, body] of [
        ["/v1/embeddings", { input: ["a b", "c d"] }],
        ["/embed", { inputs: ["a b", "c d"] }],
      ] as const) {
        const text = JSON.stringify(body);
        run.mockClear();
        const answer = await direct!.answer(request(path, text));
        expect(answer, path).not.toBeNull();
        expect(run).toHaveBeenCalledTimes(1);
        const viaApp = await app.fetch(
          new Request(`http://x${path}`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-request-id": "req-1" },
            body: text,
          }),
        );
        expect(viaApp.status).toBe(413);
        expect(answer!.status).toBe(413);
        expect(answer!.headers.map(([k]) => k)).toEqual([...viaApp.headers.keys()]);
        expect(JSON.parse(answer!.body)).toEqual(await viaApp.json());
      }
    } finally {
      run.mockRestore();
    }
  });

  it("is off with authentication (it runs in the middleware chain)", () => {
    const { direct } = createApp(ModelHost.ready(engine, ["m"]), { apiKeys: ["k"] });
    expect(direct).toBeNull();
  });

  it("leaves a request to the app while the model is loading", async () => {
    const { direct } = createApp(new ModelHost(["m"]));
    expect(await direct!.answer(request("/v1/embeddings", '{"input":"a"}'))).toBeNull();
  });
});

describe("the direct path's checks accept only what the schemas accept unchanged", () => {
  const value = fc.oneof(
    fc.string(),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.array(fc.integer(), { maxLength: 3 }),
    fc.integer({ min: -3, max: 10 }),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom("float", "base64", "bytes", "left", "Right"),
    fc.object({ maxDepth: 1 }),
  );
  // Bodies with the required field (first key) more often than not, so that many are accepted.
  const bodies = (keys: readonly string[]) =>
    fc.oneof(
      fc
        .tuple(
          value,
          fc.dictionary(fc.constantFrom(...keys, "extra", "__proto__"), value, {
            maxKeys: 4,
            noNullPrototype: true,
          }),
        )
        .map(([first, rest]) => ({ [keys[0]!]: first, ...rest })),
      value,
    );

  for (const [name, accepts, schema, keys] of [
    [
      "/v1/embeddings",
      acceptsEmbeddings,
      EmbeddingRequest,
      ["input", "model", "encoding_format", "dimensions", "truncate_prompt_tokens", "user"],
    ],
    [
      "/embed",
      acceptsTeiEmbed,
      TeiEmbedRequest,
      ["inputs", "normalize", "dimensions", "truncate", "truncation_direction"],
    ],
  ] as const) {
    it(`${name}: accepted bodies parse to themselves`, () => {
      let taken = 0;
      fc.assert(
        fc.property(bodies(keys), (body) => {
          if (!accepts(body)) return;
          taken++;
          const parsed = schema.safeParse(body);
          expect(parsed.success).toBe(true);
          expect(parsed.data).toStrictEqual(body);
        }),
        { numRuns: 3000 },
      );
      // The property held on accepted bodies, not only on refused ones.
      expect(taken).toBeGreaterThan(100);
    });
  }
});

describe("the server answers the same on and off the direct path", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(["--model", fixture("bert-embed-mean"), "--served-model-name", "m"]);
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  // A query string takes a request off the direct path (it matches routes by the whole URL).
  const post = (path: string, body: unknown) =>
    fetch(`${server.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "same-id" },
      body: JSON.stringify(body),
    });

  it("the same status, headers and body for the direct path's requests and the others", async () => {
    for (const [path, body] of [...TAKEN, ...LEFT]) {
      const direct = await post(path, body);
      const app = await post(`${path}?via=app`, body);
      expect(direct.status, path).toBe(app.status);
      expect(direct.headers.get("x-request-id")).toBe("same-id");
      for (const h of ["x-total-time", "x-inference-time", "x-queue-time", "x-compute-tokens"])
        expect(direct.headers.has(h), h).toBe(true);
      expect(direct.headers.get("x-compute-tokens")).toBe(app.headers.get("x-compute-tokens"));
      expect(headersOf(direct)).toEqual(headersOf(app));
      expect(await comparable(direct)).toEqual(await comparable(app));
    }
  });
});
