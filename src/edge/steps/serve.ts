import type { App } from "../../api/context.js";
import type { EdgeConfig } from "../../config/worker.js";
import type { EdgeEnv, RequestGeo } from "../bindings.js";
import { isolateBreakers } from "../circuit.js";
import { loadLocalModel } from "../local-model.js";
import { AllOriginsFailed, forward, orderOrigins } from "../origins.js";
import { wasmHeapBytes } from "../ort-web.js";
import {
  type GatewayContext,
  HEAP_HEADER,
  ORIGIN_HEADER,
  problem,
  SKIPPED_HEADER,
  withHeaders,
} from "./context.js";

/** The in-Worker model, loaded once per isolate on first use (reloaded after a failure). */
let localApp: { prefix: string; app: Promise<App> } | null = null;

export function localModelApp(env: EdgeEnv, config: EdgeConfig): Promise<App> {
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

/** Headers sent on: the caller's key removed, the gateway's request id set. */
function onwardHeaders(c: GatewayContext): Headers {
  const headers = new Headers(c.req.raw.headers);
  headers.delete("authorization");
  headers.delete("x-api-key");
  headers.set("x-request-id", c.var.requestId);
  return headers;
}

/** The in-Worker model's answer, or null when it does not serve this request or cannot load. */
async function fromLocalModel(c: GatewayContext): Promise<Response | null> {
  const { config, model, body } = c.var;
  const local = config.localModel;
  const route = new URL(c.req.url).pathname;
  if (!local?.routes.includes(route) || (model !== null && model !== local.model)) return null;
  try {
    const app = await localModelApp(c.env, config);
    const req = new Request(c.req.url, {
      method: c.req.method,
      headers: onwardHeaders(c),
      ...(body ? { body } : {}),
    });
    const res = await app.fetch(req);
    return withHeaders(res, { [HEAP_HEADER]: String(wasmHeapBytes()), [ORIGIN_HEADER]: "worker" });
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
    return null;
  }
}

/** The nearest healthy origin's answer (failing over on 5xx or timeout), or 502 from none. */
async function fromOrigins(c: GatewayContext): Promise<Response> {
  const { config, body } = c.var;
  const url = new URL(c.req.url);
  const headers = onwardHeaders(c);
  if (config.originApiKey) headers.set("authorization", `Bearer ${config.originApiKey}`);
  const geo = (c.req.raw as unknown as { cf?: RequestGeo }).cf;
  try {
    const forwarded = await forward(
      { method: c.req.method, path: `${url.pathname}${url.search}`, headers, body },
      orderOrigins(config.origins, geo),
      config.originTimeoutMs,
      isolateBreakers(config.circuitFailures, config.circuitCooldownMs),
    );
    return withHeaders(forwarded.response, {
      [ORIGIN_HEADER]: forwarded.origin.region,
      ...(forwarded.skipped.length ? { [SKIPPED_HEADER]: forwarded.skipped.join("; ") } : {}),
    });
  } catch (err) {
    if (!(err instanceof AllOriginsFailed)) throw err;
    return problem(502, err.message, "BadGatewayError");
  }
}

/** The last step: the in-Worker model for its routes and model, else the origins. */
export async function serve(c: GatewayContext): Promise<Response> {
  const res = (await fromLocalModel(c)) ?? (await fromOrigins(c));
  return withHeaders(res, { "x-request-id": c.var.requestId });
}
