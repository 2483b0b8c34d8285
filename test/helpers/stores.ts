import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { openStore, type Store } from "../../src/store/index.js";

export const TEST_DATABASE_URL =
  process.env.EDGEPOOL_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** A store spec for servers and CLI runs, and how to open and drop it. */
export interface TestBackend {
  name: "sqlite" | "postgres";
  /** Why the backend cannot run here (no server answers), or null. */
  unavailable: string | null;
  /** A fresh, empty store: a new file, or a new Postgres schema. */
  create(): Promise<{ spec: string; open(): Promise<Store>; drop(): Promise<void> }>;
}

async function postgresAnswers(): Promise<string | null> {
  const client = new pg.Client({
    connectionString: TEST_DATABASE_URL,
    connectionTimeoutMillis: 3000,
  });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return null;
  } catch (err) {
    return `no PostgreSQL answers at ${TEST_DATABASE_URL.replace(/\/\/[^@/]*@/, "//")} (${(err as Error).message}); set EDGEPOOL_TEST_DATABASE_URL to run the Postgres tests`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

let counter = 0;

function sqliteBackend(): TestBackend {
  return {
    name: "sqlite",
    unavailable: null,
    async create() {
      const dir = mkdtempSync(join(tmpdir(), "edgepool-store-"));
      const spec = `sqlite:${join(dir, "edgepool.db")}`;
      // Created, as a Postgres schema is: the CLI opens an existing SQLite file only (--create).
      await (await openStore(spec)).close();
      return {
        spec,
        open: () => openStore(spec),
        drop: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  };
}

function postgresBackend(unavailable: string | null): TestBackend {
  return {
    name: "postgres",
    unavailable,
    async create() {
      const schema = `edgepool_test_${process.pid}_${Date.now().toString(36)}_${++counter}`;
      const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      await admin.end();
      const url = new URL(TEST_DATABASE_URL);
      url.searchParams.set("options", `-c search_path=${schema}`);
      const spec = url.toString();
      return {
        spec,
        open: () => openStore(spec),
        drop: async () => {
          const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
          await c.connect();
          await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          await c.end();
        },
      };
    },
  };
}

/** SQLite always; Postgres when a server answers (else skipped, with the reason printed). */
export async function testBackends(): Promise<TestBackend[]> {
  const unavailable = await postgresAnswers();
  if (unavailable) console.warn(`Skipping the Postgres store tests: ${unavailable}`);
  return [sqliteBackend(), postgresBackend(unavailable)];
}

export const TEST_REDIS_URL = process.env.EDGEPOOL_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** Null when a Redis server answers at TEST_REDIS_URL, else why not (its tests are skipped). */
export async function redisUnavailable(): Promise<string | null> {
  const { createClient } = await import("@redis/client");
  const client = createClient({
    url: TEST_REDIS_URL,
    socket: { connectTimeout: 3000, reconnectStrategy: false },
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (err) {
    const why = `no Redis answers at ${TEST_REDIS_URL} (${(err as Error).message}); set EDGEPOOL_TEST_REDIS_URL to run the Redis tests`;
    console.warn(`Skipping the Redis tests: ${why}`);
    return why;
  } finally {
    await client.quit().catch(() => undefined);
  }
}
