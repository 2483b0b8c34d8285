import { isJsonContentType } from "./body.js";
import type { ApiEnv, RequestScope } from "./context.js";
import { type DirectRoute, directRoutes } from "./direct-routes.js";
import { errorAnswer, logFailure } from "./errors.js";
import { hostFor, type ModelHost } from "./host.js";
import type { RouteDeps } from "./route-deps.js";
import { errorStyleOf } from "./tei-errors.js";
import { finishRequest, requestIdOf, startTiming, type TimingOptions } from "./timing.js";

type Vars = ApiEnv["Variables"];

/** A request as the server read it. */
export interface DirectRequest {
  path: string;
  header(name: string): string | undefined;
  body: string;
  signal: AbortSignal;
  /** When the request arrived (`performance.now()`), before its body was read. */
  start: number;
}

/** A request the direct path answered: its status, headers and JSON text. */
export interface DirectAnswer {
  status: number;
  headers: Array<[string, string]>;
  body: string;
}

/** A direct request's variables, kept as the app's context keeps them. */
class DirectScope implements RequestScope {
  readonly req: { readonly raw: { readonly signal: AbortSignal } };
  private readonly vars: Partial<Vars> = {};

  constructor(signal: AbortSignal) {
    this.req = { raw: { signal } };
  }

  get<K extends keyof Vars>(key: K): Vars[K] {
    return this.vars[key] as Vars[K];
  }

  set<K extends keyof Vars>(key: K, value: Vars[K]): void {
    this.vars[key] = value;
  }
}

/**
 * The server's direct path for the busiest routes (`/v1/embeddings`, `/embeddings`, `/embed`):
 * a request whose body is of the common shape (a compiled check, see `direct-routes.ts`) runs
 * the route's own code without the router and middleware chain, and gets the same answer and
 * headers; an error it meets while running is answered in the app's error shape (`errorAnswer`).
 * A body of another shape is answered by the app from the same body: `answer` returns null and
 * nothing was sent or counted. Only for a server without authentication or
 * metering (those run in the middleware chain).
 */
export class DirectPath {
  private readonly routes: ReadonlyMap<string, DirectRoute>;

  constructor(
    private readonly host: ModelHost,
    private readonly deps: RouteDeps,
    private readonly timing: TimingOptions,
    private readonly payloadLimit: number,
    mounted: (path: string) => boolean,
  ) {
    this.routes = new Map([...directRoutes()].filter(([path]) => mounted(path)));
  }

  /** How many routes it serves (those of the busiest that are mounted). */
  get routeCount(): number {
    return this.routes.size;
  }

  /**
   * Whether the server should read this request's body for the direct path: a POST to one of its
   * routes with a JSON body (or none named) of a stated length within the payload limit. `bytes`:
   * the body's length when it is in hand already (a Lambda event's), instead of the stated one.
   */
  wants(
    method: string | undefined,
    path: string | undefined,
    header: DirectRequest["header"],
    bytes?: number,
  ) {
    if (method !== "POST" || path === undefined || !this.routes.has(path)) return false;
    if (bytes === undefined && header("transfer-encoding") !== undefined) return false;
    const length = bytes ?? header("content-length");
    if (length === undefined || !(Number(length) <= this.payloadLimit)) return false;
    const type = header("content-type");
    return type === undefined || isJsonContentType(type);
  }

  /** The answer, or null when the app should answer this request from the same body. */
  async answer(req: DirectRequest): Promise<DirectAnswer | null> {
    const route = this.routes.get(req.path);
    if (!route) return null;
    let json: unknown;
    try {
      json = JSON.parse(req.body);
    } catch {
      return null;
    }
    if (!route.accepts(json)) return null;
    // A request the engine would refuse for capacity is the app's to refuse (and count).
    const model = (json as { model?: unknown }).model;
    const host = hostFor(this.deps.hosts, typeof model === "string" ? model : null);
    const scheduler = host?.engine?.scheduler;
    if (!scheduler || scheduler.activeRequests >= scheduler.options.maxConcurrentRequests) {
      return null;
    }
    const scope = new DirectScope(req.signal);
    const id = requestIdOf(req.header("x-request-id"));
    const timing = startTiming();
    timing.start = req.start;
    scope.set("requestId", id);
    scope.set("timing", timing);
    scope.set("maxResponseBytes", this.timing.maxResponseBytes);
    let status = 200;
    let body: string;
    const headers: Array<[string, string]> = [["content-type", "application/json"]];
    try {
      body = await route.answer(scope, this.deps, json);
    } catch (err) {
      // Answered as the app's error handler answers it: the request ran once, not again.
      const answer = errorAnswer(err, errorStyleOf(req.path));
      logFailure(this.timing.logger, err, answer.status, req.path);
      status = answer.status;
      body = JSON.stringify(answer.body);
      headers.push(...answer.headers);
    }
    finishRequest(
      this.host,
      this.timing,
      {
        id,
        timing,
        warnings: scope.get("warnings"),
        method: "POST",
        path: req.path,
        routePath: req.path,
        status,
      },
      (name, value) => headers.push([name, value]),
    );
    // In the order the app's answers list them (a Headers object sorts by name).
    headers.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    return { status, headers, body };
  }
}
