import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { D1Database } from "../../src/edge/bindings.js";
import { D1Sql } from "../../src/edge/d1-sql.js";
import { hashKey, keyPrefix } from "../../src/metering/api-keys.js";
import { listFiles, selectModelFiles } from "../../src/models/files.js";
import {
  buildManifest,
  type Manifest,
  manifestSha,
  manifestText,
} from "../../src/models/manifest.js";
import { Store } from "../../src/store/store.js";
import { ROOT } from "./server.js";

/** The R2 binding as the test harness hands it out (the part used here). */
export interface R2Put {
  put(key: string, body: Uint8Array | string, opts?: { sha256?: string }): Promise<unknown>;
}

/**
 * The production build of the Worker: `wrangler deploy --dry-run` with the real wrangler.jsonc,
 * into `outdir` with esbuild's metafile; returns wrangler's output (it reports the sizes).
 */
export async function buildWorker(outdir: string): Promise<string> {
  const built = await promisify(execFile)(
    "npx",
    [
      "wrangler",
      "deploy",
      "--dry-run",
      "--outdir",
      outdir,
      "--metafile",
      join(outdir, "meta.json"),
    ],
    { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  return built.stdout + built.stderr;
}

/** A model folder's manifest and its pinned prefix `<name>/<manifest-sha256>`, as `edgepool pin` makes them. */
export async function pinFolder(
  dir: string,
  name: string,
): Promise<{ manifest: Manifest; prefix: string }> {
  const manifest = await buildManifest(dir, selectModelFiles(await listFiles(dir)), {
    type: "dir",
    id: name,
    revision: null,
  });
  return { manifest, prefix: `${name}/${manifestSha(manifest)}` };
}

/** Upload the files (R2 checks each sha256 on put), then the manifest, under the prefix. */
export async function uploadPinned(
  bucket: R2Put,
  dir: string,
  pinned: { manifest: Manifest; prefix: string },
): Promise<void> {
  for (const f of pinned.manifest.files) {
    await bucket.put(
      `${pinned.prefix}/${f.path}`,
      new Uint8Array(await readFile(join(dir, f.path))),
      {
        sha256: f.sha256,
      },
    );
  }
  await bucket.put(`${pinned.prefix}/edgepool.manifest.json`, manifestText(pinned.manifest));
}

/** Apply migrations/ to a D1 binding, statement by statement (what `wrangler d1 migrations apply` runs). */
export async function applyMigrations(db: unknown): Promise<void> {
  const d1 = db as D1Database;
  const dir = join(ROOT, "migrations");
  for (const f of (await readdir(dir)).filter((n) => n.endsWith(".sql")).sort()) {
    const text = (await readFile(join(dir, f), "utf8")).replace(/^--.*$/gm, "");
    for (const sql of text
      .split(";")
      .map((s) => s.trim())
      .filter(Boolean)) {
      await d1.prepare(sql).run();
    }
  }
}

/** Create an API key in the Worker's D1 with the metering store itself (migrations applied first). */
export async function createEdgeKey(
  db: unknown,
  key: string,
  rateLimit: number | null = null,
  requestQuota: number | null = null,
): Promise<string> {
  await applyMigrations(db);
  const store = new Store(new D1Sql(db as D1Database));
  const keyHash = await hashKey(key);
  const id = `key-${keyHash.slice(0, 12)}`;
  await store.keys.create({
    id,
    name: id,
    keyHash,
    keyPrefix: keyPrefix(key),
    rateLimit,
    requestQuota,
    quotaPeriod: "day",
    createdAt: Date.now(),
  });
  return id;
}
