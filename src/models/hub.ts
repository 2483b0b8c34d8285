import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { ModelCache } from "./cache.js";
import { ModelStoreError } from "./errors.js";
import { type Dtype, selectModelFiles } from "./files.js";
import {
  MANIFEST_FILE,
  type Manifest,
  type ManifestFile,
  manifestSha,
  parseManifest,
} from "./manifest.js";
import { type HubRef, safeRelativePath } from "./paths.js";
import { progress } from "./progress.js";

export interface HubOptions {
  /** `HF_ENDPOINT`, default https://huggingface.co */
  endpoint?: string;
  /** `HF_TOKEN` */
  token?: string;
  dtype?: Dtype;
  /** Give up on an unanswered request after this long (ms). */
  timeoutMs?: number;
  log?: (msg: string) => void;
}

function endpointOf(opts: HubOptions): string {
  return (opts.endpoint ?? process.env.HF_ENDPOINT ?? "https://huggingface.co").replace(/\/+$/, "");
}

function headers(opts: HubOptions): Record<string, string> {
  const token = opts.token ?? process.env.HF_TOKEN;
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function hubFetch(url: string, opts: HubOptions): Promise<Response> {
  try {
    return await fetch(url, {
      headers: headers(opts),
      redirect: "follow",
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new ModelStoreError(
      `Could not reach ${new URL(url).origin}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
    );
  }
}

/** A file of a revision, with its size and (for LFS files) sha256 when the Hub says them. */
interface HubFile {
  path: string;
  size: number | null;
  sha256: string | null;
}

/** The commit a revision points to and the files it holds (one request). */
async function listRevision(
  ref: HubRef,
  opts: HubOptions,
): Promise<{ commit: string; files: HubFile[] }> {
  // `blobs=true` (huggingface_hub's files_metadata) adds each file's size and LFS sha256.
  const url = `${endpointOf(opts)}/api/models/${ref.id}/revision/${encodeURIComponent(ref.revision)}?blobs=true`;
  const res = await hubFetch(url, opts);
  if (res.status === 401 || res.status === 403) {
    throw new ModelStoreError(
      `The Hub refused access to ${ref.id} (HTTP ${res.status}): set HF_TOKEN for gated or private models`,
    );
  }
  if (res.status === 404)
    throw new ModelStoreError(`${ref.id}@${ref.revision} was not found on the Hub`);
  if (!res.ok)
    throw new ModelStoreError(`The Hub answered HTTP ${res.status} for ${ref.id}@${ref.revision}`);
  const body = (await res.json()) as {
    sha?: string;
    siblings?: Array<{ rfilename?: string; size?: number; lfs?: { sha256?: string } }>;
  };
  if (!body.sha || !COMMIT.test(body.sha) || !Array.isArray(body.siblings)) {
    throw new ModelStoreError(`Unexpected Hub answer for ${ref.id}@${ref.revision}`);
  }
  const files = body.siblings.map((s) => ({
    path: String(s.rfilename ?? ""),
    size: Number.isSafeInteger(s.size) && s.size! >= 0 ? s.size! : null,
    sha256: typeof s.lfs?.sha256 === "string" && SHA256.test(s.lfs.sha256) ? s.lfs.sha256 : null,
  }));
  return { commit: body.sha, files };
}

const COMMIT = /^[0-9a-f]{40}$/;
const SHA256 = /^[0-9a-f]{64}$/;

function notCached(ref: HubRef, cacheRoot: string, why: string): ModelStoreError {
  return new ModelStoreError(
    `Model ${ref.id}@${ref.revision} is not in the cache (${cacheRoot}) and could not be downloaded: ${why}. ` +
      "Without network access, point --model at a local model folder, or pin the model to your bucket " +
      "(`edgepool pin <id> --to s3://bucket/models/`) and serve the printed s3:// URI.",
  );
}

/**
 * The cache's references per dtype: each dtype downloads other files. fp32 keeps the plain kind
 * (caches written before dtypes were told apart).
 */
function refKind(dtype: Dtype = "fp32"): string {
  return dtype === "fp32" ? "hub" : `hub-${dtype}`;
}

/**
 * The cached snapshot a name (a revision or a commit) points to, when it holds this dtype's
 * graph — and, given the Hub's answer, when it is that commit with exactly the files it needs.
 */
async function cachedSnapshot(
  cache: ModelCache,
  ref: HubRef,
  name: string,
  dtype: Dtype | undefined,
  want?: { commit: string; files: readonly string[] },
): Promise<{ dir: string; manifest: Manifest } | null> {
  const dir = await cache.getRef(refKind(dtype), ref.id, name);
  if (!dir) return null;
  let manifest: Manifest;
  try {
    manifest = parseManifest(await readFile(join(dir, MANIFEST_FILE), "utf8"));
  } catch {
    return null;
  }
  const paths = manifest.files.map((f) => f.path);
  if (selectModelFiles(paths, dtype).length !== paths.length) return null;
  if (!paths.some((p) => p.endsWith(".onnx"))) return null;
  if (want) {
    if (manifest.source.revision !== want.commit) return null;
    if ([...paths].sort().join("\n") !== [...want.files].sort().join("\n")) return null;
  }
  return { dir, manifest };
}

/**
 * Download files of a commit into the cache's blobs, verified against their sha256 (the LFS
 * ETag, else the listing's) as they stream in, with one progress bar for them all.
 */
async function fetchFiles(
  ref: HubRef,
  commit: string,
  fetchList: readonly string[],
  byPath: ReadonlyMap<string, HubFile>,
  cache: ModelCache,
  opts: HubOptions,
): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  const sizes = fetchList.map((p) => byPath.get(p)!.size);
  const total = sizes.every((n) => n !== null) ? sizes.reduce((a, n) => a! + n!, 0)! : null;
  const base = `${endpointOf(opts)}/${ref.id}/resolve/${commit}`;
  const bar = progress(`${ref.id}@${commit.slice(0, 7)}`, total, {
    ...(opts.log ? { log: opts.log } : {}),
  });
  try {
    for (const path of fetchList) {
      const res = await hubFetch(
        `${base}/${path.split("/").map(encodeURIComponent).join("/")}`,
        opts,
      );
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        throw new ModelStoreError(`Downloading ${ref.id}/${path} failed: HTTP ${res.status}`);
      }
      // LFS files carry their sha256 as the (linked) ETag; verify against it when present.
      const etag = (res.headers.get("x-linked-etag") ?? res.headers.get("etag") ?? "")
        .replace(/^W\//, "")
        .replaceAll('"', "");
      const expected = SHA256.test(etag) ? etag : byPath.get(path)!.sha256;
      const length = res.headers.get("content-length");
      const stream = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
      const put = await cache.putStream(
        stream,
        { path, sha256: expected, size: length ? Number(length) : null },
        (n) => bar.add(n),
      );
      files.push({ path, ...put });
    }
  } finally {
    bar.stop();
  }
  return files;
}

/**
 * Download what a model needs from the Hub at a revision into the cache, and return the verified
 * snapshot folder. As huggingface_hub: the revision is resolved to its commit (one request), and
 * a snapshot of that commit already in the cache is used as it is — nothing is downloaded again;
 * a commit given as the revision needs no request at all once cached. When the revision moved,
 * the new commit's files are downloaded, except those whose sha256 the cache already holds.
 * Without network, the revision's last snapshot in the cache is used.
 */
export async function downloadFromHub(
  ref: HubRef,
  cache: ModelCache,
  opts: HubOptions = {},
): Promise<string> {
  const kind = refKind(opts.dtype);
  if (COMMIT.test(ref.revision)) {
    const pinned = await cachedSnapshot(cache, ref, ref.revision, opts.dtype);
    if (pinned && pinned.manifest.source.revision === ref.revision) return pinned.dir;
  }
  let listing: { commit: string; files: HubFile[] };
  try {
    listing = await listRevision(ref, opts);
  } catch (err) {
    const cached = await cachedSnapshot(cache, ref, ref.revision, opts.dtype);
    if (cached) {
      opts.log?.(
        `Hub unreachable (${(err as Error).message}); using the cached ${ref.id}@${ref.revision} (commit ${cached.manifest.source.revision})`,
      );
      return cached.dir;
    }
    throw notCached(ref, cache.root, (err as Error).message);
  }
  const byPath = new Map(listing.files.map((f) => [f.path, f]));
  const wanted = selectModelFiles([...byPath.keys()], opts.dtype);
  if (!wanted.includes("config.json") || !wanted.some((f) => f.endsWith(".onnx"))) {
    throw new ModelStoreError(
      `${ref.id}@${ref.revision} has no ONNX export for dtype ${opts.dtype ?? "fp32"} (looked for onnx/model*.onnx beside config.json)`,
    );
  }
  const want = { commit: listing.commit, files: wanted };
  for (const name of new Set([listing.commit, ref.revision])) {
    const hit = await cachedSnapshot(cache, ref, name, opts.dtype, want);
    if (hit) {
      // Both names point at it (written only when one did not yet).
      for (const other of [ref.revision, listing.commit]) {
        if ((await cache.getRef(kind, ref.id, other)) !== hit.dir)
          await cache.setRef(kind, ref.id, other, manifestSha(hit.manifest));
      }
      return hit.dir;
    }
  }
  const files: ManifestFile[] = [];
  const fetchList: string[] = [];
  for (const path of wanted) {
    safeRelativePath(path, "Hub file path");
    const f = byPath.get(path)!;
    if (f.sha256 && f.size !== null && (await cache.hasBlob(f.sha256, f.size))) {
      files.push({ path, sha256: f.sha256, size: f.size });
    } else fetchList.push(path);
  }
  files.push(...(await fetchFiles(ref, listing.commit, fetchList, byPath, cache, opts)));
  files.sort((a, b) => wanted.indexOf(a.path) - wanted.indexOf(b.path));
  const manifest: Manifest = {
    version: 1,
    source: { type: "hub", id: ref.id, revision: listing.commit },
    files,
  };
  const dir = await cache.materialize(manifest);
  const sha = manifestSha(manifest);
  await cache.setRef(kind, ref.id, listing.commit, sha);
  if (ref.revision !== listing.commit) await cache.setRef(kind, ref.id, ref.revision, sha);
  return dir;
}
