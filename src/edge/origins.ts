import type { Origin } from "../config/worker.js";
import type { RequestGeo } from "./bindings.js";
import type { CircuitBreakers } from "./circuit.js";

/** Origins nearest first: those listing the caller's continent, then the rest, each in config order. */
export function orderOrigins(origins: readonly Origin[], geo: RequestGeo | undefined): Origin[] {
  const continent = geo?.continent;
  if (!continent) return [...origins];
  const near = origins.filter((o) => o.continents.includes(continent));
  return [...near, ...origins.filter((o) => !near.includes(o))];
}

export interface Forwarded {
  response: Response;
  origin: Origin;
  /** Origins tried before this one, and why each was skipped. */
  skipped: string[];
}

export class AllOriginsFailed extends Error {
  constructor(readonly attempts: string[]) {
    super(`No origin answered: ${attempts.join("; ")}`);
    this.name = "AllOriginsFailed";
  }
}

const HOP_BY_HOP = ["host", "connection", "keep-alive", "transfer-encoding", "content-length"];

export interface ForwardRequest {
  method: string;
  /** Path and query string, e.g. `/v1/embeddings?x=1`. */
  path: string;
  headers: Headers;
  body: Uint8Array<ArrayBuffer> | null;
}

/**
 * Send the request to each origin in turn until one answers below 500 within `timeoutMs`; a 5xx,
 * a refused connection or a timeout moves on to the next and counts against the origin's circuit
 * breaker. Origins whose circuit is open are tried only after all the others. The body is
 * buffered so it can be replayed.
 */
export async function forward(
  req: ForwardRequest,
  origins: readonly Origin[],
  timeoutMs: number,
  breakers: CircuitBreakers,
): Promise<Forwarded> {
  const skipped: string[] = [];
  const headers = new Headers(req.headers);
  for (const h of HOP_BY_HOP) headers.delete(h);
  const now = Date.now();
  const closed = origins.filter((o) => !breakers.isOpen(o.region, now));
  const open = origins.filter((o) => !closed.includes(o));
  for (const o of open) skipped.push(`${o.region}: circuit open`);
  for (const origin of [...closed, ...open]) {
    // Keep the origin's own base path: `https://x/prod` + `/v1/embeddings?…`.
    const url = `${origin.url.replace(/\/$/, "")}${req.path}`;
    try {
      const response = await fetch(url, {
        method: req.method,
        headers,
        ...(req.body ? { body: req.body } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (response.status >= 500) {
        skipped.push(`${origin.region}: HTTP ${response.status}`);
        breakers.failure(origin.region, Date.now());
        await response.body?.cancel();
        continue;
      }
      breakers.success(origin.region);
      return { response, origin, skipped };
    } catch (err) {
      const e = err as Error;
      const why = e.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : e.message;
      skipped.push(`${origin.region}: ${why}`);
      breakers.failure(origin.region, Date.now());
    }
  }
  throw new AllOriginsFailed(skipped);
}
