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
