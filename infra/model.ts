import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { listFiles, selectModelFiles } from "../src/models/files.js";
import {
  buildManifest,
  MANIFEST_FILE,
  type Manifest,
  manifestSha,
  manifestText,
  parseManifest,
  verifyFolder,
} from "../src/models/manifest.js";

/** A model folder pinned by its manifest: what goes under `<name>/<manifest-sha256>/`. */
export interface PinnedModel {
  name: string;
  dir: string;
  manifest: Manifest;
  manifestSha256: string;
  /** `<name>/<manifest-sha256>` (no trailing slash). */
  prefix: string;
  /** The manifest's canonical text, uploaded last. */
  manifestText: string;
}

/** The served model of each role: what serverless.yml's model parameters and the GPU service take. */
export interface RoleModels {
  /** Embeddings, pooling, tokenize and the endpoint route (`model`). */
  embedding: PinnedModel;
  /** The cross-encoder for rerank and score (`rerankModel`); absent: those functions are off. */
  rerank?: PinnedModel;
  /** The sequence classifier (`classifyModel`); absent: classify is off. */
  classify?: PinnedModel;
}

export const ROLES = ["embedding", "rerank", "classify"] as const;

/** Every pinned model once: the served ones by role, then those kept for rolling back. */
export function allPins(roles: RoleModels, retained: readonly PinnedModel[]): PinnedModel[] {
  const all = [...ROLES.map((r) => roles[r]).filter((m) => m !== undefined), ...retained];
  return all.filter((m, i) => all.findIndex((o) => o.prefix === m.prefix) === i);
}

/**
 * Read the folder's `edgepool.manifest.json` (as `edgepool pin` writes it, so the prefix is the
 * same) and check every file against it; a folder without one is hashed into a new manifest.
 */
export async function pinnedModel(name: string, dir: string): Promise<PinnedModel> {
  const path = join(dir, MANIFEST_FILE);
  let manifest: Manifest;
  if (existsSync(path)) {
    manifest = parseManifest(await readFile(path, "utf8"));
    await verifyFolder(dir, manifest);
  } else {
    const files = selectModelFiles(await listFiles(dir));
    manifest = await buildManifest(dir, files, { type: "dir", id: name, revision: null });
  }
  const sha = manifestSha(manifest);
  return {
    name,
    dir,
    manifest,
    manifestSha256: sha,
    prefix: `${name}/${sha}`,
    manifestText: manifestText(manifest),
  };
}
