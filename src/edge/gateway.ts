import { Hono } from "hono";
import { readConfig } from "../config/worker.js";
import { D1Ledger } from "./ledger.js";
import { auth } from "./steps/auth.js";
import { readBody } from "./steps/body.js";
import { cache } from "./steps/cache.js";
import { type GatewayDeps, type GatewayEnv, problem, type Step } from "./steps/context.js";
import { mountDocs } from "./steps/docs.js";
import { meter } from "./steps/meter.js";
import { rateLimit } from "./steps/rate-limit.js";
import { serve } from "./steps/serve.js";

export {
  CACHE_HEADER,
  type GatewayDeps,
  HEAP_HEADER,
  ORIGIN_HEADER,
  SKIPPED_HEADER,
} from "./steps/context.js";

const PUBLIC = new Set(["/health", "/ping"]);

const defaultDeps: GatewayDeps = {
  ledger: (env) => new D1Ledger(env.DB),
  cache: () => (globalThis as unknown as { caches: { default: EdgeCacheHolder } }).caches.default,
};
type EdgeCacheHolder = ReturnType<GatewayDeps["cache"]>;

/** Configuration (a bad var is an error naming it), the request's id, and the public routes. */
function start(deps: GatewayDeps): Step {
  return async (c, next) => {
    const route = new URL(c.req.url).pathname;
    if (PUBLIC.has(route) && (c.req.method === "GET" || c.req.method === "HEAD")) {
      return c.body(null, 200);
    }
    c.set("config", readConfig(c.env));
    c.set("ledger", deps.ledger(c.env));
    c.set("requestId", crypto.randomUUID().replaceAll("-", ""));
    c.set("started", performance.now());
    await next();
  };
}

/**
 * The edge front door: the API page (public), then one step each: API keys (D1) → per-key rate limits → the body within the
 * payload limit → the usage ledger (every answered request, cache hits too) → the Cache API for
 * identical embedding requests of one tenant → the in-Worker model for its routes, else the
 * nearest healthy regional origin (failing over on 5xx or timeout, open circuits last).
 */
export function createGateway(deps: GatewayDeps = defaultDeps) {
  const app = new Hono<GatewayEnv>();
  mountDocs(app);
  app.use(start(deps), auth, rateLimit, readBody, meter, cache(deps.cache));
  app.all("*", serve);
  app.onError((err) => {
    console.error(`gateway error: ${err.message}`);
    return problem(500, "Internal server error", "InternalServerError");
  });
  return app;
}
