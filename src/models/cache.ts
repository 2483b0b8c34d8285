import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import { copyFile, link, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { IntegrityError, ModelStoreError } from "./errors.js";
import { MANIFEST_FILE, type Manifest, manifestSha, manifestText } from "./manifest.js";
import { safeRelativePath } from "./paths.js";

/** `EDGEPOOL_CACHE_DIR`, else `/tmp/edgepool` on Lambda, else `~/.cache/edgepool`. */
export function defaultCacheDir(): string {
  if (process.env.EDGEPOOL_CACHE_DIR) return process.env.EDGEPOOL_CACHE_DIR;
  if (process.env.AWS_LAMBDA_FUNCTION_NAME) return "/tmp/edgepool";
  return join(homedir(), ".cache", "edgepool");
}

export type Progress = (bytes: number) => void;

/**
 * Content-addressed file cache: blobs stored by sha256 (so models sharing a tokenizer share
 * bytes), snapshots as folders of links named by manifest sha. Every write goes to a temporary
 * file first and is renamed into place only once complete and verified.
 */
export class ModelCache {
  constructor(readonly root: string = defaultCacheDir()) {}

  blobPath(sha256: string): string {
    return join(this.root, "blobs", "sha256", sha256);
  }

  snapshotPath(manifestSha256: string): string {
    return join(this.root, "snapshots", manifestSha256);
  }

  async hasBlob(sha256: string, size: number): Promise<boolean> {
    try {
      return (await stat(this.blobPath(sha256))).size === size;
    } catch {
      return false;
    }
  }

  private async tempPath(): Promise<string> {
    const dir = join(this.root, "tmp");
    await mkdir(dir, { recursive: true });
    return join(dir, `${randomBytes(8).toString("hex")}.partial`);
  }

  /**
   * Stream bytes into the cache. The blob appears only when the stream ended, hashed to
   * `expected` (when given); on any failure the partial file is removed.
   */
  async putStream(
    source: AsyncIterable<Uint8Array>,
    expected: { sha256?: string | null; size?: number | null; path: string },
    onProgress?: Progress,
  ): Promise<{ sha256: string; size: number }> {
    const tmp = await this.tempPath();
    const hash = createHash("sha256");
    let size = 0;
    const out = createWriteStream(tmp, { flags: "wx" });
    try {
      for await (const chunk of source) {
        hash.update(chunk);
        size += chunk.length;
        onProgress?.(chunk.length);
        if (!out.write(chunk)) await new Promise<void>((r) => out.once("drain", () => r()));
      }
      await new Promise<void>((resolve, reject) =>
        out.end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
      const sha256 = hash.digest("hex");
      if (expected.size !== undefined && expected.size !== null && size !== expected.size) {
        throw new ModelStoreError(
          `${expected.path}: received ${size} bytes, expected ${expected.size} (interrupted download?)`,
        );
      }
      if (expected.sha256 && sha256 !== expected.sha256)
        throw new IntegrityError(expected.path, expected.sha256, sha256);
      const dest = this.blobPath(sha256);
      await mkdir(dirname(dest), { recursive: true });
      await rename(tmp, dest);
      return { sha256, size };
    } catch (err) {
      out.destroy();
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /** A folder holding the manifest's files (links to verified blobs) and the manifest itself. */
  async materialize(manifest: Manifest): Promise<string> {
    const sha = manifestSha(manifest);
    const dest = this.snapshotPath(sha);
    if (existsSync(join(dest, MANIFEST_FILE))) return dest;
    const tmp = `${await this.tempPath()}.dir`;
    for (const f of manifest.files) {
      const target = join(tmp, safeRelativePath(f.path));
      await mkdir(dirname(target), { recursive: true });
      await link(this.blobPath(f.sha256), target).catch(() =>
        copyFile(this.blobPath(f.sha256), target),
      );
    }
    await writeFile(join(tmp, MANIFEST_FILE), manifestText(manifest));
    await mkdir(dirname(dest), { recursive: true });
    try {
      await rename(tmp, dest);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      if (!existsSync(join(dest, MANIFEST_FILE))) throw err;
    }
    return dest;
  }

  private refPath(kind: string, id: string, revision: string): string {
    return join(this.root, "refs", kind, ...id.split("/"), safeRelativePath(revision, "revision"));
  }

  /** Remember which snapshot a named reference (e.g. a Hub id and revision) resolved to. */
  async setRef(kind: string, id: string, revision: string, manifestSha256: string): Promise<void> {
    const p = this.refPath(kind, id, revision);
    await mkdir(dirname(p), { recursive: true });
    const tmp = `${p}.${randomBytes(4).toString("hex")}.tmp`;
    await writeFile(tmp, manifestSha256);
    await rename(tmp, p);
  }

  async getRef(kind: string, id: string, revision: string): Promise<string | null> {
    try {
      const sha = (await readFile(this.refPath(kind, id, revision), "utf8")).trim();
      return existsSync(join(this.snapshotPath(sha), MANIFEST_FILE))
        ? this.snapshotPath(sha)
        : null;
    } catch {
      return null;
    }
  }
}
