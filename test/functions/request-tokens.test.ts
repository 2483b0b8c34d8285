import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEngine } from "../../src/engine/index.js";
import { createFunction, type EdgepoolFunction } from "../../src/lambda/index.js";
import { fixture } from "../helpers/fixtures.js";
import { httpApiEvent, type LambdaResult, lambdaContext } from "../helpers/lambda.js";

const QUERY = "what makes noise?";
const DOCS = ["a dog barked", "birds sing at dawn", "the cat sat on the mat"];

describe("EDGEPOOL_MAX_REQUEST_TOKENS in a function", () => {
  let fn: EdgepoolFunction;
  let limit: number;
  const invoke = async (documents: string[]) =>
    (await fn.handler(
      httpApiEvent("POST", "/v1/rerank", { body: { query: QUERY, documents } }) as never,
      lambdaContext("rerank") as never,
    )) as unknown as LambdaResult;

  beforeAll(async () => {
    // The limit: the first two pairs' joined tokens, as the cross-encoder runs them.
    const engine = await loadEngine({ model: fixture("bert-cross-encoder") });
    limit = DOCS.slice(0, 2).reduce((n, d) => n + engine.tokenizePair(QUERY, d).ids.length, 0);
    await engine.close();
    fn = await createFunction("rerank", {
      env: {
        EDGEPOOL_MODEL_URI: fixture("bert-cross-encoder"),
        EDGEPOOL_MAX_REQUEST_TOKENS: String(limit),
        EDGEPOOL_LOG_LEVEL: "silent",
      },
    });
  });
  afterAll(async () => {
    await fn?.instance.host.engine?.close();
  });

  it("reranks a request of exactly the limit", async () => {
    const res = await invoke(DOCS.slice(0, 2));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body).usage.total_tokens).toBe(limit);
  });

  it("refuses a larger one with a 413 naming the setting", async () => {
    const res = await invoke(DOCS);
    expect(res.statusCode).toBe(413);
    const body = JSON.parse(res.body) as { error: Record<string, unknown> };
    expect(body.error.code).toBe(413);
    expect(body.error.type).toBe("BadRequestError");
    expect(body.error.message).toMatch(`over the limit of ${limit} per request`);
    expect(body.error.message).toMatch(/EDGEPOOL_MAX_REQUEST_TOKENS/);
  });

  it("refuses a limit that is not a positive integer at configuration", async () => {
    // A configuration that does not parse is logged as an error (the log level is part of it):
    // read here, not printed.
    const logged: Array<{ level: number; err?: string }> = [];
    const bad = await createFunction("rerank", {
      env: {
        EDGEPOOL_MODEL_URI: fixture("bert-cross-encoder"),
        EDGEPOOL_MAX_REQUEST_TOKENS: "lots",
        EDGEPOOL_LOG_LEVEL: "silent",
      },
      logStream: { write: (line: string) => void logged.push(JSON.parse(line)) },
    });
    const res = (await bad.handler(
      httpApiEvent("POST", "/v1/rerank", { body: { query: QUERY, documents: DOCS } }) as never,
      lambdaContext("rerank") as never,
    )) as unknown as LambdaResult;
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body).error.message).toMatch(
      /EDGEPOOL_MAX_REQUEST_TOKENS must be an integer ≥ 1/,
    );
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) {
      expect(line).toMatchObject({
        level: 50,
        err: "EDGEPOOL_MAX_REQUEST_TOKENS must be an integer ≥ 1",
      });
    }
  });
});
