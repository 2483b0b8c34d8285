import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DirectPath } from "../../src/api/direct.js";
import { createFunction, type EdgepoolFunction, lambdaHandlers } from "../../src/lambda/index.js";
import { fixture } from "../helpers/fixtures.js";
import {
  type EventInit,
  functionUrlEvent,
  httpApiEvent,
  type LambdaResult,
  lambdaContext,
  stableJson,
} from "../helpers/lambda.js";

/** Events the direct path answers: [path, event init]. */
const TAKEN: Array<[string, EventInit]> = [
  ["/v1/embeddings", { body: { input: "hello world" } }],
  ["/v1/embeddings", { body: { input: ["a b", "the quick brown fox"], model: "m" } }],
  ["/v1/embeddings", { body: { input: "x y z", encoding_format: "base64" }, base64: true }],
  ["/embeddings", { body: { input: "no length stated" }, headers: { "content-length": "" } }],
];

/** Events it leaves to the app: [path, event init, status]. */
const LEFT: Array<[string, EventInit, number]> = [
  ["/v1/embeddings", { body: { input: "" } }, 400],
  ["/v1/embeddings", { body: { input: "a", dimensions: 8 } }, 400],
  ["/v1/embeddings", { body: { input: "a", model: "nope" } }, 404],
  ["/v1/embeddings", { body: "{not json" }, 400],
  ["/v1/embeddings", { body: { input: "a" }, headers: { "content-type": "text/plain" } }, 400],
];

/** Header names, and the values of those that do not change between runs. */
const headersOf = (r: LambdaResult) =>
  Object.entries(r.headers)
    .filter(([k]) => k !== "date")
    .map(([k, v]) => (k.startsWith("x-") && k !== "x-compute-tokens" ? k : `${k}: ${v}`))
    .sort();

describe("a function's direct path: the busiest routes without the router, the app's answers", () => {
  let fn: EdgepoolFunction;
  let viaApp: (event: unknown) => Promise<LambdaResult>;
  const invoke = async (event: unknown) =>
    (await fn.handler(event as never, lambdaContext("embeddings") as never)) as LambdaResult;

  beforeAll(async () => {
    fn = await createFunction("embeddings", {
      env: { EDGEPOOL_MODEL_URI: fixture("bert-embed-mean"), EDGEPOOL_SERVED_MODEL_NAME: "m" },
      logStream: { write: () => undefined },
    });
    const { handler } = lambdaHandlers(
      await fn.app(),
      () => Promise.resolve(),
      (r) => r,
    );
    viaApp = async (event) => (await handler(event as never)) as LambdaResult;
  });
  afterAll(async () => {
    await fn.instance.host.engine?.close();
  });

  it("answers the common requests itself, as the app answers them", async () => {
    const answer = vi.spyOn(DirectPath.prototype, "answer");
    for (const [path, init] of TAKEN) {
      for (const make of [httpApiEvent, functionUrlEvent]) {
        answer.mockClear();
        const event = make("POST", path, init);
        const direct = await invoke(event);
        expect(answer, `${path} ${JSON.stringify(init)}`).toHaveBeenCalledTimes(1);
        expect(await answer.mock.results[0]!.value).not.toBeNull();
        const app = await viaApp(event);
        expect(direct.statusCode).toBe(200);
        expect(direct.statusCode).toBe(app.statusCode);
        expect(headersOf(direct)).toEqual(headersOf(app));
        expect(stableJson(direct.body)).toEqual(stableJson(app.body));
      }
    }
    answer.mockRestore();
  });

  it("leaves the others to the app, which answers them in the documented shapes", async () => {
    for (const [path, init, status] of LEFT) {
      const event = httpApiEvent("POST", path, init);
      const [direct, app] = [await invoke(event), await viaApp(event)];
      expect(direct.statusCode, `${path} ${JSON.stringify(init)}`).toBe(status);
      expect(headersOf(direct)).toEqual(headersOf(app));
      expect(JSON.parse(direct.body)).toEqual(JSON.parse(app.body));
    }
  });

  it("answers other routes through the app", async () => {
    const res = await invoke(httpApiEvent("GET", "/v1/models"));
    expect(res.statusCode).toBe(200);
    expect((JSON.parse(res.body) as { data: Array<{ id: string }> }).data[0]!.id).toBe("m");
  });
});
