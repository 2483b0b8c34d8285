import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { OUT_DIR } from "../../scripts/build-functions.js";
import { fixture } from "../helpers/fixtures.js";
import { requireBundles } from "../helpers/functions.js";
import { httpApiEvent, lambdaContext } from "../helpers/lambda.js";

/**
 * A packaged function in a process of its own, the modules it loads recorded (Node's module
 * hooks): its chunks loaded before the first request, after it, and after a second request.
 */
const CHILD = `
import { registerHooks } from "node:module";
const loaded = [];
registerHooks({
  load(url, context, next) {
    if (url.includes("/dist/functions/")) loaded.push(url.slice(url.lastIndexOf("/") + 1));
    return next(url, context);
  },
});
const [entry, events, context] = process.argv.slice(1).map((a, i) => (i ? JSON.parse(a) : a));
const { handler } = await import(entry);
const steps = [{ loaded: [...loaded] }];
for (const event of events) {
  const r = await handler(event, context);
  steps.push({ status: r.statusCode, body: r.body, loaded: [...loaded] });
}
console.log(JSON.stringify(steps));
`;

interface Step {
  status?: number;
  body?: string;
  loaded: string[];
}

function runFunction(family: string, model: string, events: unknown[], env = {}): Step[] {
  const entry = pathToFileURL(join(OUT_DIR, family, "index.js")).href;
  const out = execFileSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      CHILD,
      entry,
      JSON.stringify(events),
      JSON.stringify(lambdaContext(family)),
    ],
    {
      env: {
        PATH: process.env.PATH,
        EDGEPOOL_MODEL_URI: fixture(model),
        EDGEPOOL_SERVED_MODEL_NAME: "m",
        EDGEPOOL_LOG_LEVEL: "warn",
        ...env,
      },
      encoding: "utf8",
    },
  );
  return JSON.parse(out) as Step[];
}

/** The chunk of the HTTP side (Hono, zod, the routes): `src/lambda/app.ts`'s. */
const isHttpSide = (chunk: string) => /^app-[A-Z0-9]+\.js$/.test(chunk);

describe("a function loads its HTTP side when a request first needs it", () => {
  requireBundles(["embeddings", "rerank"]);
  const embed = httpApiEvent("POST", "/v1/embeddings", { body: { input: ["a cat", "a dog"] } });
  const models = httpApiEvent("GET", "/v1/models");

  it("answers the direct path's requests without it, loads it for another", () => {
    const [start, first, second] = runFunction("embeddings", "bert-embed-mean", [embed, models]);
    expect(first!.status).toBe(200);
    expect((JSON.parse(first!.body!) as { data: unknown[] }).data).toHaveLength(2);
    expect(start!.loaded.filter(isHttpSide)).toEqual([]);
    expect(first!.loaded.filter(isHttpSide)).toEqual([]);
    expect(second!.status).toBe(200);
    expect(JSON.parse(second!.body!)).toMatchObject({ data: [{ id: "m" }] });
    expect(second!.loaded.filter(isHttpSide)).toHaveLength(1);
  });

  it("loads it at start without a direct path: another family, or API keys", () => {
    const [start] = runFunction("rerank", "bert-cross-encoder", []);
    expect(start!.loaded.filter(isHttpSide)).toHaveLength(1);
    const [keyed, refused] = runFunction("embeddings", "bert-embed-mean", [embed], {
      EDGEPOOL_API_KEYS: "k1",
    });
    expect(keyed!.loaded.filter(isHttpSide)).toHaveLength(1);
    expect(refused!.status).toBe(401);
  });
});
