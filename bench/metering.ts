// Metering overhead on /v1/embeddings: three servers on the same tiny model (so that the
// per-request cost of metering is not lost in inference time), measured in interleaved rounds:
//   none     --api-key (static key, no store)
//   sqlite   --store sqlite:… and a stored key (quota + rate limit, so every check runs)
//   postgres --store postgres://… (a schema of its own, dropped afterwards), same key settings
// Every metered row is committed before its response (group commit) and every request of the
// stored key takes one atomic admission on the store (quota and rate limit counters).
// Prints each configuration's median p50 (c=1) and per-request time (c=64) and the difference
// from `none`, and the CPU each request cost: the server process's, plus on Postgres the
// database backends serving it (found by application_name) — on a busy machine the CPU per
// request moves far less than the times do.   node --import tsx bench/metering.ts [--rounds 5] [--c 1,64] [--requests 3000]
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { runLoad } from "./lib/load.js";
import { ROOT } from "./lib/models.js";
import { type Child, processCpuMs, serveArgs, spawnServer } from "./lib/procs.js";
import { median } from "./lib/stats.js";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    c: { type: "string", default: "1,64" },
    /** Requests per configuration and round at c > 1 (400 at c=1). */
    requests: { type: "string", default: "3000" },
    database: {
      type: "string",
      default: process.env.EDGEPOOL_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
    },
  },
});
const BIN = join(ROOT, "dist", "cli", "main.js");
const MODEL = join(ROOT, "test", "fixtures", "models", "bert-embed-mean");
const dir = mkdtempSync(join(tmpdir(), "edgepool-bench-metering-"));
const schema = `edgepool_bench_${process.pid}`;
const admin = new pg.Client({ connectionString: values.database });
await admin.connect();
await admin.query(`CREATE SCHEMA ${schema}`);
const pgUrl = new URL(values.database!);
pgUrl.searchParams.set("options", `-c search_path=${schema}`);

const appName = `edgepool-bench-${process.pid}`;
pgUrl.searchParams.set("application_name", appName);
const stores = { sqlite: `sqlite:${join(dir, "bench.db")}`, postgres: pgUrl.toString() };

/** CPU ms of the Postgres backends serving the bench's server (by application_name). */
async function dbCpuMs(): Promise<number> {
  const { rows } = await admin.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
    [appName],
  );
  return rows.reduce((sum, r) => sum + processCpuMs(r.pid), 0);
}
function storedKey(spec: string): string {
  const out = execFileSync(process.execPath, [
    BIN,
    "keys",
    "create",
    "--store",
    spec,
    "--name",
    "bench",
    "--request-quota",
    "100000000",
    "--rate-limit",
    "100000000",
    "--json",
  ]).toString();
  return (JSON.parse(out) as { key: string }).key;
}

const base = 18700 + Math.floor(Math.random() * 90) * 3;
async function start(port: number, flags: string[]): Promise<Child> {
  return spawnServer(
    process.execPath,
    [BIN, ...serveArgs(port, "--model", MODEL, ...flags)],
    port,
    async (b) => (await fetch(`${b}/health`)).status === 200,
  );
}
const configs = {
  none: { server: await start(base, ["--api-key", "bench-static"]), key: "bench-static" },
  sqlite: {
    server: await start(base + 1, ["--store", stores.sqlite, "--create"]),
    key: storedKey(stores.sqlite),
  },
  postgres: {
    server: await start(base + 2, ["--store", stores.postgres]),
    key: storedKey(stores.postgres),
  },
};
type Name = keyof typeof configs;
const names = Object.keys(configs) as Name[];
const bodies = (n: number) =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ input: `a short sentence number ${i}` }));

const report: Record<string, unknown> = {
  machine: "shared 2-core build machine under load from other work: ratios matter, not absolutes",
  model: "test/fixtures/models/bert-embed-mean (tiny: metering is a large share of the request)",
};
try {
  for (const { server, key } of Object.values(configs)) {
    await runLoad(`${server.url}/v1/embeddings`, bodies(200), 8, {
      authorization: `Bearer ${key}`,
    });
  }
  for (const c of values.c!.split(",").map(Number)) {
    const perRequest: Record<Name, number[]> = { none: [], sqlite: [], postgres: [] };
    const cpuUs: Record<Name, number[]> = { none: [], sqlite: [], postgres: [] };
    const p50: Record<Name, number[]> = { none: [], sqlite: [], postgres: [] };
    for (let round = 0; round < Number(values.rounds); round++) {
      // Rotate the order each round, so that drift on the machine hits every configuration alike.
      const order = names.map((_, i) => names[(i + round) % names.length]!);
      for (const name of order) {
        const { server, key } = configs[name];
        const cpu0 = processCpuMs(server.proc.pid!) + (name === "postgres" ? await dbCpuMs() : 0);
        const r = await runLoad(
          `${server.url}/v1/embeddings`,
          bodies(c === 1 ? 400 : Number(values.requests)),
          c,
          {
            authorization: `Bearer ${key}`,
          },
        );
        if (r.errors > 0) throw new Error(`${name}: ${r.errors} failed requests`);
        perRequest[name].push((r.seconds * 1000) / r.requests);
        const cpu1 = processCpuMs(server.proc.pid!) + (name === "postgres" ? await dbCpuMs() : 0);
        cpuUs[name].push(((cpu1 - cpu0) * 1000) / r.requests);
        p50[name].push(r.p50);
      }
    }
    const row: Record<string, unknown> = {};
    for (const name of names) {
      row[name] = {
        p50Ms: +median(p50[name]).toFixed(3),
        msPerRequest: +median(perRequest[name]).toFixed(3),
        addedP50Ms: +(median(p50[name]) - median(p50.none)).toFixed(3),
        addedMsPerRequest: +(median(perRequest[name]) - median(perRequest.none)).toFixed(3),
        cpuUsPerRequest: Math.round(median(cpuUs[name])),
        addedCpuUsPerRequest: Math.round(median(cpuUs[name]) - median(cpuUs.none)),
      };
    }
    report[`c${c}`] = row;
    console.log(`concurrency ${c}:`, JSON.stringify(row));
  }
  writeFileSync(
    join(ROOT, "bench", "results", "metering.json"),
    `${JSON.stringify(report, null, 2)}\n`,
  );
} finally {
  await Promise.all(Object.values(configs).map((x) => x.server.stop()));
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
}
