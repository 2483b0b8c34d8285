import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { IntegrityError, ModelStoreError } from "./errors.js";
import { safeRelativePath } from "./paths.js";

export const MANIFEST_FILE = "edgepool.manifest.json";

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}

/** Pins a model: where it came from and every file's size and sha256. */
export interface Manifest {
  version: 1;
  source: { type: "hub" | "dir" | "bucket"; id: string; revision: string | null };
  files: ManifestFile[];
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Canonical text of a manifest (files sorted by path), and its sha256: the pin's identity. */
export function manifestText(m: Manifest): string {
  const files = [...m.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return `${JSON.stringify({ version: 1, source: m.source, files }, null, 2)}\n`;
}

export function manifestSha(m: Manifest): string {
  return createHash("sha256").update(manifestText(m)).digest("hex");
}

/** Parse and check a manifest: shape, safe paths, hex digests. */
export function parseManifest(text: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ModelStoreError(`${MANIFEST_FILE} is not valid JSON: ${(err as Error).message}`);
  }
  const m = value as Manifest;
  if (
    m?.version !== 1 ||
    !Array.isArray(m.files) ||
    typeof m.source !== "object" ||
    m.source === null
  ) {
    throw new ModelStoreError(`${MANIFEST_FILE} is not an edgepool manifest (version 1)`);
  }
  const seen = new Set<string>();
  for (const f of m.files) {
    safeRelativePath(String(f?.path), "manifest path");
    if (!/^[0-9a-f]{64}$/.test(String(f.sha256)) || !Number.isSafeInteger(f.size) || f.size < 0) {
      throw new ModelStoreError(`${MANIFEST_FILE}: bad size or sha256 for ${f.path}`);
    }
    if (seen.has(f.path)) throw new ModelStoreError(`${MANIFEST_FILE}: ${f.path} is listed twice`);
    seen.add(f.path);
  }
  return m;
}

/** Hash the given files of a folder into a manifest. */
export async function buildManifest(
  dir: string,
  paths: readonly string[],
  source: Manifest["source"],
): Promise<Manifest> {
  const files: ManifestFile[] = [];
  for (const p of paths) {
    const full = join(dir, safeRelativePath(p));
    files.push({ path: p, size: (await stat(full)).size, sha256: await sha256File(full) });
  }
  return { version: 1, source, files };
}

/** Check every file of a folder against the manifest; throws naming the file and both hashes. */
export async function verifyFolder(dir: string, manifest: Manifest): Promise<void> {
  for (const f of manifest.files) {
    const full = join(dir, f.path);
    let size: number;
    try {
      size = (await stat(full)).size;
    } catch {
      throw new ModelStoreError(`${f.path} is listed in ${MANIFEST_FILE} but missing from ${dir}`);
    }
    const actual = await sha256File(full);
    if (actual !== f.sha256 || size !== f.size) throw new IntegrityError(f.path, f.sha256, actual);
  }
}
