import type { WorkerVars } from "../config/worker.js";

/**
 * The parts of the Workers runtime bindings the gateway uses, typed here (structurally the same
 * as @cloudflare/workers-types) so that the Worker's code also typechecks with the project's
 * Node-based config.
 */
export interface D1Result<T> {
  results: T[];
}

export interface D1PreparedStatement {
  bind(...values: unknown[]): D1PreparedStatement;
  first<T = Record<string, unknown>>(): Promise<T | null>;
  run(): Promise<unknown>;
  all<T = Record<string, unknown>>(): Promise<D1Result<T>>;
}

export interface D1Database {
  prepare(sql: string): D1PreparedStatement;
  batch(statements: D1PreparedStatement[]): Promise<unknown[]>;
}

export interface R2ObjectBody {
  size: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface R2Bucket {
  get(key: string): Promise<R2ObjectBody | null>;
}

export interface EdgeCache {
  match(request: Request): Promise<Response | undefined>;
  put(request: Request, response: Response): Promise<void>;
}

/** `request.cf` fields used for picking the nearest origin. */
export interface RequestGeo {
  continent?: string;
  country?: string;
  colo?: string;
}

/** The Worker's env: its bindings (D1, R2) and its vars (`src/config/worker.ts` reads them). */
export interface EdgeEnv extends WorkerVars {
  DB: D1Database;
  MODELS?: R2Bucket;
}
