import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ModelCache } from "../../src/models/cache.js";
import { VerifiedBlobs } from "../../src/models/verified.js";

describe("VerifiedBlobs: a blob's hash check, kept with its file's identity", () => {
  const root = mkdtempSync(join(tmpdir(), "edgepool-verified-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const cache = new ModelCache(root);
  const sha = "ab".repeat(32);
  const blob = cache.blobPath(sha);
  mkdirSync(dirname(blob), { recursive: true });
  writeFileSync(blob, "bytes");

  it("is unchanged once recorded, and not after the file is touched", async () => {
    const verified = new VerifiedBlobs(cache);
    expect(await verified.unchanged(sha)).toBe(false);
    await verified.record(sha);
    expect(await verified.unchanged(sha)).toBe(true);
    utimesSync(blob, new Date(), new Date());
    expect(await verified.unchanged(sha)).toBe(false);
  });

  it("does not record a blob that changed while it was hashed", async () => {
    const verified = new VerifiedBlobs(cache);
    const before = await verified.identity(sha);
    expect(before).not.toBeNull();
    writeFileSync(blob, "other");
    await verified.record(sha, before);
    expect(await verified.unchanged(sha)).toBe(false);
    await verified.record(sha, await verified.identity(sha));
    expect(await verified.unchanged(sha)).toBe(true);
  });

  it("counts an unreadable record or a missing blob as none", async () => {
    const verified = new VerifiedBlobs(cache);
    expect(await verified.unchanged("cd".repeat(32))).toBe(false);
    await verified.record("cd".repeat(32));
    expect(await verified.unchanged("cd".repeat(32))).toBe(false);
  });
});
