import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { ModelCache } from "./cache.js";
import { ModelStoreError } from "./errors.js";
import { type Dtype, selectModelFiles } from "./files.js";
import { type Manifest, type ManifestFile, manifestSha } from "./manifest.js";
import { type HubRef, safeRelativePath } from "./paths.js";
import { progressBar } from "./progress.js";

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

/** The commit a revision points to and the files it holds. */
async function listRevision(
  ref: HubRef,
  opts: HubOptions,
): Promise<{ commit: string; files: string[] }> {
  const url = `${endpointOf(opts)}/api/models/${ref.id}/revision/${encodeURIComponent(ref.revision)}`;
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
  const body = (await res.json()) as { sha?: string; siblings?: Array<{ rfilename?: string }> };
  if (!body.sha || !/^[0-9a-f]{40}$/.test(body.sha) || !Array.isArray(body.siblings)) {
    throw new ModelStoreError(`Unexpected Hub answer for ${ref.id}@${ref.revision}`);
  }
  const files = body.siblings.map((s) => String(s.rfilename ?? ""));
  return { commit: body.sha, files };
}

function notCached(ref: HubRef, cacheRoot: string, why: string): ModelStoreError {
  return new ModelStoreError(
    `Model ${ref.id}@${ref.revision} is not in the cache (${cacheRoot}) and could not be downloaded: ${why}. ` +
      "Without network access, point --model at a local model folder, or pin the model to your bucket " +
      "(`edgepool pin <id> --to s3://bucket/models/`) and serve the printed s3:// URI.",
  );
}

/**
 * Download what a model needs from the Hub at a revision into the cache, and return the verified
 * snapshot folder. With no network, a previously downloaded revision is used from the cache.
 */
export async function downloadFromHub(
  ref: HubRef,
  cache: ModelCache,
  opts: HubOptions = {},
): Promise<string> {
  let listing: { commit: string; files: string[] };
  try {
    listing = await listRevision(ref, opts);
  } catch (err) {
    const cached = await cache.getRef("hub", ref.id, ref.revision);
    if (cached) {
      opts.log?.(
        `Hub unreachable (${(err as Error).message}); using the cached ${ref.id}@${ref.revision}`,
      );
      return cached;
    }
    throw notCached(ref, cache.root, (err as Error).message);
  }
  const wanted = selectModelFiles(listing.files, opts.dtype);
  if (!wanted.includes("config.json") || !wanted.some((f) => f.endsWith(".onnx"))) {
    throw new ModelStoreError(
      `${ref.id}@${ref.revision} has no ONNX export for dtype ${opts.dtype ?? "fp32"} (looked for onnx/model*.onnx beside config.json)`,
    );
  }
  const files: ManifestFile[] = [];
  const base = `${endpointOf(opts)}/${ref.id}/resolve/${listing.commit}`;
  const bar = progressBar(ref.id);
  try {
    for (const path of wanted) {
      safeRelativePath(path, "Hub file path");
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
      const expected = /^[0-9a-f]{64}$/.test(etag) ? etag : null;
      const length = res.headers.get("content-length");
      bar.grow(Number(length ?? 0));
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
  const manifest: Manifest = {
    version: 1,
    source: { type: "hub", id: ref.id, revision: listing.commit },
    files,
  };
  const dir = await cache.materialize(manifest);
  await cache.setRef("hub", ref.id, ref.revision, manifestSha(manifest));
  return dir;
}
