import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { SCHEMA } from "../../src/store/schema.js";
import { ROOT } from "../helpers/server.js";

/** Every table's columns (name, type, not null, default, key) and every index, as SQLite sees them. */
function shape(db: DatabaseSync) {
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .all() as Array<{ name: string }>;
  return Object.fromEntries(
    tables.map(({ name }) => [
      name,
      {
        columns: db.prepare(`PRAGMA table_info(${name})`).all(),
        indexes: (db.prepare(`PRAGMA index_list(${name})`).all() as Array<{ name: string }>)
          .map((i) => ({ ...i, columns: db.prepare(`PRAGMA index_info(${i.name})`).all() }))
          .sort((a, b) => (a.name < b.name ? -1 : 1)),
      },
    ]),
  );
}

describe("D1 migrations (migrations/, wrangler d1 migrations apply)", () => {
  const dir = join(ROOT, "migrations");
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort();

  it("are numbered in order, as wrangler applies them", () => {
    expect(files.length).toBeGreaterThan(0);
    for (const [i, f] of files.entries()) {
      expect(f.slice(0, 5)).toBe(`${String(i + 1).padStart(4, "0")}_`);
      expect(f).toMatch(/^\d{4}_[a-z0-9_]+\.sql$/);
    }
  });

  it("create exactly the metering store's tables", () => {
    const migrated = new DatabaseSync(":memory:");
    for (const f of files) migrated.exec(readFileSync(join(dir, f), "utf8"));
    const store = new DatabaseSync(":memory:");
    for (const sql of SCHEMA) store.exec(sql);
    const got = shape(migrated);
    expect(Object.keys(got)).toContain("api_keys");
    // A change to src/store/schema.ts needs a new migration file here (D1 applies each once).
    expect(got).toEqual(shape(store));
  });
});
