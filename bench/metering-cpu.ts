// In-process cost of metering per request (no HTTP, no inference): app.request on POST /tokenize
// (billable, tokenizing only) with a static key and no store, versus a stored key with a quota
// and a rate limit (an admission and a committed ledger row per request) on SQLite and on
// Postgres; interleaved, one request at a time.
//   node --import tsx bench/metering-cpu.ts [--n 20000] [--rounds 5]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { createApp } from "../src/api/index.js";
import { loadEngine } from "../src/engine/index.js";
import { Meter, newId, newSecret } from "../src/metering/index.js";
import { openStore, type Store } from "../src/store/index.js";
import { ROOT } from "./lib/models.js";
import { median } from "./lib/stats.js";

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "20000" },
    rounds: { type: "string", default: "5" },
    database: {
      type: "string",
      default: process.env.EDGEPOOL_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
    },
  },
});
const engine = await loadEngine({
  model: join(ROOT, "test", "fixtures", "models", "bert-embed-mean"),
});
const dir = mkdtempSync(join(tmpdir(), "edgepool-bench-meter-"));
const schema = `edgepool_bench_cpu_${process.pid}`;
const admin = new pg.Client({ connectionString: values.database });
await admin.connect();
await admin.query(`CREATE SCHEMA ${schema}`);
const pgUrl = new URL(values.database!);
pgUrl.searchParams.set("options", `-c search_path=${schema}`);

async function metered(store: Store) {
  const secret = await newSecret();
  await store.keys.create({
    id: newId("key"),
    name: "bench",
    keyHash: secret.keyHash,
    keyPrefix: secret.keyPrefix,
    requestQuota: 1e9,
    rateLimit: 1e9,
    createdAt: Date.now(),
  });
  const meter = new Meter(store);
  return { app: createApp(engine, { meter }).app, key: secret.key, meter };
}
const stores = [await openStore(`sqlite:${join(dir, "b.db")}`), await openStore(pgUrl.toString())];
const configs = {
  none: { app: createApp(engine, { apiKeys: ["static"] }).app, key: "static", meter: null },
  sqlite: await metered(stores[0]!),
  postgres: await metered(stores[1]!),
};
const n = Number(values.n);
const us: Record<string, number[]> = { none: [], sqlite: [], postgres: [] };
try {
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [name, c] of Object.entries(configs)) {
      const headers = { authorization: `Bearer ${c.key}` };
      const t = performance.now();
      for (let i = 0; i < n; i++) {
        const res = await c.app.request("/tokenize", {
          method: "POST",
          headers: { ...headers, "content-type": "application/json" },
          body: '{"prompt":"a short sentence"}',
        });
        if (res.status !== 200) throw new Error(`${name}: ${res.status}`);
        await res.arrayBuffer();
      }
      await c.meter?.flush();
      us[name]!.push(((performance.now() - t) / n) * 1000);
    }
  }
  for (const name of Object.keys(us)) {
    console.log(
      `${name}: ${median(us[name]!).toFixed(1)} µs/request, metering adds ${(median(us[name]!) - median(us.none!)).toFixed(1)} µs`,
    );
  }
} finally {
  for (const c of Object.values(configs)) await c.meter?.close();
  for (const s of stores) await s.close();
  await engine.close();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
}
