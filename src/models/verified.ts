import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ModelCache } from "./cache.js";
import { type Manifest, verifyFolder } from "./manifest.js";
import type { ModelSourceOptions } from "./resolve.js";

/** A file's identity: device, inode, size, modification and change times (ns). */
async function identity(path: string): Promise<string | null> {
  try {
    const s = await stat(path, { bigint: true });
    return [s.dev, s.ino, s.size, s.mtimeNs, s.ctimeNs].join(":");
  } catch {
    return null;
  }
}

/**
 * The cache's blobs whose sha256 was checked (as they were downloaded, or hashed at a load), each
 * recorded with its file's identity at that moment: `verified/<sha256>`. A blob whose file still
 * has that identity has not been written, replaced or touched since (a write moves its change
 * time, which only the clock's owner can set back) and is not hashed again; any other is hashed
 * as before. A record that cannot be read or written counts as none: the blob is hashed.
 */
export class VerifiedBlobs {
  constructor(private readonly cache: ModelCache) {}

  private recordPath(sha256: string): string {
    return join(this.cache.root, "verified", sha256);
  }

  /** Whether the blob is as it was when its hash was checked. */
  async unchanged(sha256: string): Promise<boolean> {
    const [recorded, now] = await Promise.all([
      readFile(this.recordPath(sha256), "utf8").catch(() => null),
      identity(this.cache.blobPath(sha256)),
    ]);
    return now !== null && recorded === now;
  }

  /** The blob's identity now (null when it cannot be read). */
  identity(sha256: string): Promise<string | null> {
    return identity(this.cache.blobPath(sha256));
  }

  /**
   * Record the blob as it is now, its hash just checked; best effort. With `before` (its identity
   * taken before it was hashed), only if it is still that: a blob changed while it was hashed is
   * left unrecorded.
   */
  async record(sha256: string, before?: string | null): Promise<void> {
    const now = await identity(this.cache.blobPath(sha256));
    if (now === null || (before !== undefined && before !== now)) return;
    const path = this.recordPath(sha256);
    const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      await mkdir(join(this.cache.root, "verified"), { recursive: true });
      await writeFile(tmp, now);
      await rename(tmp, path);
    } catch {
      // An unwritable cache: the next load hashes the blob again.
    }
  }
}

/**
 * Verify a folder against its manifest. A file that is a link to one of the cache's blobs is not
 * hashed again when this process downloaded it (hashed as it arrived) or when the blob is
 * unchanged since its hash was last checked (`VerifiedBlobs`); every other file is. The blobs
 * checked here are then recorded.
 */
export async function verifyResolved(
  dir: string,
  manifest: Manifest,
  downloaded: ReadonlySet<string>,
  cache: ModelCache,
  onVerify: ModelSourceOptions["onVerify"],
): Promise<void> {
  const verified = new VerifiedBlobs(cache);
  const blobs = await cacheBlobs(dir, manifest, cache);
  const skip = new Set<string>();
  const downloads: string[] = [];
  /** The blobs to hash, with their identity before: recorded after only if unchanged meanwhile. */
  const hashing = new Map<string, string | null>();
  // Every file's checks at once (a few file system calls each, not one file after another): for
  // each blob, undefined when it is not hashed (downloaded by this call, or unchanged since its
  // record), else its identity before the hash.
  const linked = [...blobs];
  const before = await Promise.all(
    linked.map(async ([, sha]) =>
      downloaded.has(sha) || (await verified.unchanged(sha)) ? undefined : verified.identity(sha),
    ),
  );
  linked.forEach(([path, sha], i) => {
    const identity = before[i];
    if (identity !== undefined) hashing.set(sha, identity);
    else {
      if (downloaded.has(sha)) downloads.push(sha);
      skip.add(path);
    }
  });
  await verifyFolder(dir, manifest, { skip });
  await Promise.all([
    ...downloads.map((sha) => verified.record(sha)),
    ...[...hashing].map(([sha, before]) => verified.record(sha, before)),
  ]);
  onVerify?.({
    hashed: manifest.files.map((f) => f.path).filter((p) => !skip.has(p)),
    unchanged: [...skip].filter((p) => !downloaded.has(blobs.get(p)!)),
  });
}

/** The files of a folder that are links to the cache's blobs (the same file): path → sha256. */
async function cacheBlobs(
  dir: string,
  manifest: Manifest,
  cache: ModelCache,
): Promise<Map<string, string>> {
  const linked = await Promise.all(
    manifest.files.map(async (f) => {
      const [file, blob] = await Promise.all([
        stat(join(dir, f.path)).catch(() => null),
        stat(cache.blobPath(f.sha256)).catch(() => null),
      ]);
      return file && blob && file.ino === blob.ino && file.dev === blob.dev;
    }),
  );
  return new Map(manifest.files.filter((_, i) => linked[i]).map((f) => [f.path, f.sha256]));
}
