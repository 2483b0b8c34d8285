import { type StoreSpec, StoreSpecError, shownSpec, sqlitePath } from "./spec.js";
import { Store } from "./store.js";

export {
  type StoreSpec,
  StoreSpecError,
  shownSpec,
  sqlitePath,
  storeSpecFrom,
} from "./spec.js";

/** Open (and migrate) a store; the backend's module is loaded only when it is used. */
export async function openStore(
  spec: StoreSpec,
  options: { schema?: string; poolSize?: number } = {},
): Promise<Store> {
  const path = sqlitePath(spec);
  if (path !== null) {
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
  throw new StoreSpecError(`Unknown store '${shownSpec(spec)}': use sqlite:PATH or postgres://…`);
}
