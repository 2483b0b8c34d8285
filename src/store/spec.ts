// Which store is named, without loading any store code: a function checks it before it imports
// the store, metering and jobs modules.

/** `sqlite:PATH` (or `sqlite::memory:`) or `postgres://…` / `postgresql://…`. */
export type StoreSpec = string;

export class StoreSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The store named by `--store`, else `EDGEPOOL_STORE`, else `DATABASE_URL`; null when none is. */
export function storeSpecFrom(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): StoreSpec | null {
  const spec = flag ?? env.EDGEPOOL_STORE ?? env.DATABASE_URL;
  return spec?.trim() ? spec.trim() : null;
}

/** The file of a `sqlite:PATH` spec (`:memory:` for an in-memory one); null for another backend. */
export function sqlitePath(spec: StoreSpec): string | null {
  return spec.startsWith("sqlite:") ? spec.slice("sqlite:".length) : null;
}

/** The spec as it may be shown: a URL's user and password left out. */
export function shownSpec(spec: StoreSpec): string {
  return spec.replace(/\/\/[^@/]*@/, "//…@");
}
