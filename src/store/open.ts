import { Store } from "./store.js";

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

/** Open (and migrate) a store; the backend's module is loaded only when it is used. */
export async function openStore(
  spec: StoreSpec,
  options: { schema?: string; poolSize?: number } = {},
): Promise<Store> {
  if (spec.startsWith("sqlite:")) {
    const path = spec.slice("sqlite:".length);
    if (!path) throw new StoreSpecError("--store sqlite: needs a path, e.g. sqlite:./edgepool.db");
    const { SqliteExecutor } = await import("./sqlite.js");
    return Store.open(new SqliteExecutor(path));
  }
  if (/^postgres(ql)?:\/\//.test(spec)) {
    const { PostgresExecutor } = await import("./postgres.js");
    const db = await PostgresExecutor.open({
      connectionString: spec,
      ...(options.schema ? { schema: options.schema } : {}),
      ...(options.poolSize ? { max: options.poolSize } : {}),
    });
    try {
      return await Store.open(db);
    } catch (err) {
      await db.close().catch(() => undefined);
      throw err;
    }
  }
  throw new StoreSpecError(
    `Unknown store '${spec.replace(/\/\/[^@/]*@/, "//…@")}': use sqlite:PATH or postgres://…`,
  );
}
