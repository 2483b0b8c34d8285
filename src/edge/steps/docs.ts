import type { Hono } from "hono";
import { registerDocs } from "../../api/docs.js";
import { readConfig } from "../../config/worker.js";
import type { RequestGeo } from "../bindings.js";
import { isolateBreakers } from "../circuit.js";
import { AllOriginsFailed, forward, orderOrigins } from "../origins.js";
import { type GatewayEnv, problem } from "./context.js";
import { localModelApp } from "./serve.js";

/**
 * The API page, public as on the origins (its packaged files are wrangler static assets), and
 * `/openapi.json` from the in-Worker model when it is the only one, else from the nearest origin.
 */
export function mountDocs(app: Hono<GatewayEnv>): void {
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
        isolateBreakers(config.circuitFailures, config.circuitCooldownMs),
      );
      return response;
    } catch (err) {
      if (!(err instanceof AllOriginsFailed)) throw err;
      return problem(502, err.message, "BadGatewayError");
    }
  });
}
