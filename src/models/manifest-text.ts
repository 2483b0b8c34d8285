/* The manifest format: runtime-neutral (the edge Worker reads it too). */
import { ModelStoreError } from "./errors.js";
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

/** Canonical text of a manifest (files sorted by path), and its sha256: the pin's identity. */
export function manifestText(m: Manifest): string {
  const files = [...m.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return `${JSON.stringify({ version: 1, source: m.source, files }, null, 2)}\n`;
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
