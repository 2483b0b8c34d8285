import type { Step } from "./context.js";

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

/** One usage row per answered request (cache hits too), written before the response leaves. */
export const meter: Step = async (c, next) => {
  await next();
  const v = c.var;
  await v.ledger.record({
    requestId: v.requestId,
    keyId: v.key.id,
    route: new URL(c.req.url).pathname,
    model: v.model,
    status: c.res.status,
    inputs: inputsOf(v.json),
    inputTokens: tokensOf(c.res),
    durationMs: performance.now() - v.started,
  });
};
