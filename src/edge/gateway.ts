import { Hono } from "hono";
import type { App } from "../api/context.js";
import { registerDocs } from "../api/docs.js";
import { errorBody } from "../api/errors.js";
import type { EdgeCache, RequestGeo } from "./bindings.js";
import { CACHEABLE_ROUTES, cacheKey, storeResponse } from "./cache.js";
import { type EdgeConfig, type EdgeEnv, readConfig } from "./config.js";
import { D1Ledger, type GatewayLedger } from "./ledger.js";
import { loadLocalModel } from "./local-model.js";
import { AllOriginsFailed, forward, orderOrigins } from "./origins.js";
import { wasmHeapBytes } from "./ort-web.js";

/** Response headers: who answered (an origin's region, `worker`), and whether from the cache. */
export const ORIGIN_HEADER = "x-edgepool-origin";
export const CACHE_HEADER = "x-edgepool-cache";
/** On answers from the in-Worker model: bytes of its wasm heap, against the 128 MB isolate. */
export const HEAP_HEADER = "x-edgepool-wasm-heap";

const PUBLIC = new Set(["/health", "/ping"]);

function problem(
  status: number,
  message: string,
  type: string,
  headers: Record<string, string> = {},
) {
  return Response.json(errorBody(message, type, status), { status, headers });
}

function bearer(req: Request): string {
  const header = req.headers.get("authorization") ?? "";
  if (/^bearer\s+/i.test(header)) return header.replace(/^bearer\s+/i, "").trim();
  return req.headers.get("x-api-key") ?? "";
}

function modelOf(json: unknown): string | null {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return null;
  const model = (json as Record<string, unknown>).model;
  return typeof model === "string" ? model : null;
}

/** How many inputs a request carries (`input`, `inputs`, `texts` or `documents`), for the ledger. */
function inputsOf(json: unknown): number {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return 1;
  const body = json as Record<string, unknown>;
  const list = body.input ?? body.inputs ?? body.texts ?? body.documents;
  return Array.isArray(list) ? list.length : 1;
}

function tokensOf(res: Response): number {
  const n = Number(res.headers.get("x-compute-tokens"));
  return Number.isFinite(n) && n >= 0 ? n : 0;
}

function withHeaders(res: Response, headers: Record<string, string>): Response {
  const out = new Response(res.body, res);
  for (const [k, v] of Object.entries(headers)) out.headers.set(k, v);
  return out;
}

/** The in-Worker model, loaded once per isolate on first use (reloaded after a failure). */
let localApp: { prefix: string; app: Promise<App> } | null = null;

function localModelApp(env: EdgeEnv, config: EdgeConfig): Promise<App> {
  const local = config.localModel!;
  if (!env.MODELS) return Promise.reject(new Error("LOCAL_MODEL is set but no MODELS R2 binding"));
  if (localApp?.prefix !== local.prefix) {
    const app = loadLocalModel(env.MODELS, local, config);
    localApp = { prefix: local.prefix, app };
    app.catch(() => {
      if (localApp?.app === app) localApp = null;
    });
  }
  return localApp.app;
}

export interface GatewayDeps {
  ledger(env: EdgeEnv): GatewayLedger;
  cache(): EdgeCache;
}

const defaultDeps: GatewayDeps = {
  ledger: (env) => new D1Ledger(env.DB),
  cache: () => (globalThis as unknown as { caches: { default: EdgeCache } }).caches.default,
};

interface Served {
  response: Response;
  servedBy: string;
}

/**
 * The edge front door: API keys and per-key rate limits (D1), the Cache API for identical
 * embedding requests, the in-Worker model for its routes, and the nearest healthy regional origin
 * for everything else, failing over on 5xx or timeout. Every answered request is metered in D1.
 */
export function createGateway(deps: GatewayDeps = defaultDeps) {
  const app = new Hono<{ Bindings: EdgeEnv }>();

  // The API page, public as on the origins; its packaged files are wrangler static assets.
  registerDocs(app);
  app.get("/openapi.json", async (c) => {
    const config = readConfig(c.env);
    if (config.origins.length === 0 && config.localModel) {
      return (await localModelApp(c.env, config)).fetch(new Request(c.req.url));
    }
    const headers = new Headers({ accept: "application/json" });
    if (config.originApiKey) headers.set("authorization", `Bearer ${config.originApiKey}`);
    const geo = (c.req.raw as unknown as { cf?: RequestGeo }).cf;
    try {
      const { response } = await forward(
        { method: "GET", path: "/openapi.json", headers, body: null },
        orderOrigins(config.origins, geo),
        config.originTimeoutMs,
      );
      return response;
    } catch (err) {
      if (!(err instanceof AllOriginsFailed)) throw err;
      return problem(502, err.message, "BadGatewayError");
    }
  });

  app.all("*", async (c) => {
    const req = c.req.raw;
    const env = c.env;
    const config = readConfig(env);
    const url = new URL(req.url);
    const route = url.pathname;
    if (PUBLIC.has(route) && (req.method === "GET" || req.method === "HEAD")) {
      return c.body(null, 200);
    }
    const requestId = crypto.randomUUID().replaceAll("-", "");
    const started = performance.now();
    const ledger = deps.ledger(env);

    const key = await ledger.findKey(bearer(req));
    if (!key) return problem(401, "Invalid or missing API key", "AuthenticationError");
    const rate = await ledger.admit(
      key,
      key.rateLimitPerMinute ?? config.rateLimitPerMinute,
      Date.now(),
    );
    if (!rate.allowed) {
      return problem(429, rate.message, "TooManyRequestsError", {
        "retry-after": String(rate.retryAfterSeconds),
      });
    }

    let body: Uint8Array | null = null;
    let json: unknown;
    if (req.method !== "GET" && req.method !== "HEAD") {
      const declared = Number(req.headers.get("content-length") ?? 0);
      const tooLarge = () =>
        problem(
          413,
          `Request body is larger than the payload limit of ${config.payloadLimit} bytes`,
          "BadRequestError",
        );
      if (declared > config.payloadLimit) return tooLarge();
      body = new Uint8Array(await req.arrayBuffer());
      if (body.byteLength > config.payloadLimit) return tooLarge();
      try {
        json = JSON.parse(new TextDecoder().decode(body));
      } catch {
        json = undefined; // not JSON: the app behind answers with its own 400
      }
    }
    const model = modelOf(json);

    const cacheable = req.method === "POST" && CACHEABLE_ROUTES.has(route) && json !== undefined;
    const cache = cacheable ? deps.cache() : null;
    const ckey = cacheable ? await cacheKey(route, model ?? "", json) : null;
    if (cache && ckey) {
      const hit = await cache.match(ckey);
      if (hit) {
        await ledger.record({
          requestId,
          keyId: key.id,
          route,
          model,
          status: hit.status,
          inputs: inputsOf(json),
          inputTokens: tokensOf(hit),
          durationMs: performance.now() - started,
        });
        return withHeaders(hit, { [CACHE_HEADER]: "hit", "x-request-id": requestId });
      }
    }

    const headers = new Headers(req.headers);
    headers.delete("authorization");
    headers.delete("x-api-key");
    headers.set("x-request-id", requestId);
    let served: Served | null = null;
    const local = config.localModel;
    if (local?.routes.includes(route) && (model === null || model === local.model)) {
      try {
        const app = await localModelApp(env, config);
        const response = await app.fetch(
          new Request(req.url, { method: req.method, headers, ...(body ? { body } : {}) }),
        );
        served = {
          response: withHeaders(response, { [HEAP_HEADER]: String(wasmHeapBytes()) }),
          servedBy: "worker",
        };
      } catch (err) {
        // The model could not be loaded here: the origins still can answer.
        console.error(`in-Worker model unavailable: ${(err as Error).message}`);
        if (config.origins.length === 0) {
          return problem(
            503,
            `The in-Worker model failed to load: ${(err as Error).message}`,
            "ServiceUnavailableError",
          );
        }
      }
    }
    if (!served) {
      if (config.originApiKey) headers.set("authorization", `Bearer ${config.originApiKey}`);
      const geo = (req as unknown as { cf?: RequestGeo }).cf;
      try {
        const forwarded = await forward(
          { method: req.method, path: `${route}${url.search}`, headers, body },
          orderOrigins(config.origins, geo),
          config.originTimeoutMs,
        );
        served = { response: forwarded.response, servedBy: forwarded.origin.region };
      } catch (err) {
        if (!(err instanceof AllOriginsFailed)) throw err;
        return problem(502, err.message, "BadGatewayError");
      }
    }

    let response = withHeaders(served.response, {
      [ORIGIN_HEADER]: served.servedBy,
      "x-request-id": requestId,
      ...(cacheable ? { [CACHE_HEADER]: "miss" } : {}),
    });
    if (cache && ckey && response.status === 200) {
      const text = await response.text();
      const stored = new Response(text, response);
      c.executionCtx.waitUntil(
        storeResponse(cache, ckey, stored, config.cacheTtlSeconds).catch((err: Error) =>
          console.error(`cache put failed: ${err.message}`),
        ),
      );
      response = new Response(text, response);
    }
    await ledger.record({
      requestId,
      keyId: key.id,
      route,
      model,
      status: response.status,
      inputs: inputsOf(json),
      inputTokens: tokensOf(response),
      durationMs: performance.now() - started,
    });
    return response;
  });

  app.onError((err) => {
    console.error(`gateway error: ${err.message}`);
    return problem(500, "Internal server error", "InternalServerError");
  });
  return app;
}
