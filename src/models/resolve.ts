import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import {
  type BucketOptions,
  bucketClient,
  fetchFromBucket,
  fetchObject,
  readManifest,
  uploadPinned,
} from "./bucket.js";
import { ModelCache } from "./cache.js";
import { IntegrityError, ModelStoreError } from "./errors.js";
import { type Dtype, listFiles, onnxFileFor, selectModelFiles } from "./files.js";
import { downloadFromHub, type HubOptions } from "./hub.js";
import {
  buildManifest,
  MANIFEST_FILE,
  type Manifest,
  manifestSha,
  parseManifest,
} from "./manifest.js";
import { joinKey, parseBucketUri, parseHubRef } from "./paths.js";
import { verifyResolved } from "./verified.js";

export interface ModelSourceOptions extends BucketOptions {
  cacheDir?: string;
  dtype?: Dtype;
  hub?: Omit<HubOptions, "dtype">;
  log?: (msg: string) => void;
  /** Told how long fetching (download or cache lookup) and verifying took, in ms. */
  onPhase?: (phase: "fetch" | "verify", ms: number) => void;
  /**
   * Told which files of a pinned folder were hashed and which were not because their cache blob
   * is unchanged since its hash was checked (files downloaded by this call are in neither).
   */
  onVerify?: (files: { hashed: string[]; unchanged: string[] }) => void;
}

export interface ResolvedModel {
  /** A local folder, verified against its manifest when it has one. */
  dir: string;
  /** The ONNX file to load inside it, for the requested dtype. */
  onnxFile: string | undefined;
  manifest: Manifest | null;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

async function localManifest(dir: string): Promise<Manifest | null> {
  const p = join(dir, MANIFEST_FILE);
  if (!existsSync(p)) return null;
  return parseManifest(await readFile(p, "utf8"));
}

/**
 * A folder named by a manifest sha256 (a pinned prefix mounted as `/weights/<sha256>`) must hold
 * that very manifest: a mount of another pin, or of none, is refused before anything loads.
 */
function checkPinnedFolder(dir: string, manifest: Manifest | null): void {
  const pin = basename(dir.replace(/\/+$/, ""));
  if (!/^[0-9a-f]{64}$/.test(pin)) return;
  if (!manifest) {
    throw new ModelStoreError(
      `${dir} is named as a pin (manifest sha256 ${pin}) but holds no ${MANIFEST_FILE}`,
    );
  }
  const actual = manifestSha(manifest);
  if (actual !== pin) {
    throw new ModelStoreError(
      `${dir} does not hold its pin: expected manifest sha256 ${pin}, got ${actual}`,
    );
  }
}

/**
 * Turn a `model` argument into a verified local folder: a directory as it is, `s3://` / `r2://`
 * pinned models through the cache, or a Hub id `org/name[@revision]` downloaded into the cache.
 * A folder with an `edgepool.manifest.json` is verified file by file before it is used.
 */
export async function resolveModel(
  spec: string,
  opts: ModelSourceOptions = {},
): Promise<ResolvedModel> {
  const onnxFile = opts.dtype && opts.dtype !== "fp32" ? onnxFileFor(opts.dtype) : undefined;
  let dir: string;
  let downloaded: ReadonlySet<string> = new Set();
  const fetchStart = performance.now();
  if (isDirectory(spec)) dir = spec;
  else {
    const bucket = parseBucketUri(spec);
    if (bucket) {
      ({ dir, downloaded } = await fetchFromBucket(bucket, new ModelCache(opts.cacheDir), opts));
    } else if (spec.startsWith("/") || spec.startsWith(".") || spec.includes("\\")) {
      throw new ModelStoreError(`Model folder ${spec} does not exist`);
    } else {
      dir = await downloadFromHub(parseHubRef(spec), new ModelCache(opts.cacheDir), {
        ...opts.hub,
        ...(opts.dtype ? { dtype: opts.dtype } : {}),
        ...(opts.log ? { log: opts.log } : {}),
      });
    }
  }
  opts.onPhase?.("fetch", performance.now() - fetchStart);
  const verifyStart = performance.now();
  const manifest = await localManifest(dir);
  checkPinnedFolder(dir, manifest);
  if (manifest)
    await verifyResolved(dir, manifest, downloaded, new ModelCache(opts.cacheDir), opts.onVerify);
  opts.onPhase?.("verify", performance.now() - verifyStart);
  return { dir, onnxFile, manifest };
}

export interface PinOptions extends ModelSourceOptions {
  /** Folder name under the destination prefix (default: the model's name). */
  name?: string;
  revision?: string;
  /**
   * Pin each ONNX graph with its weights in a page-aligned `<graph>_data` file, which ONNX Runtime
   * maps instead of copying (a faster session start where no copy can be kept between starts,
   * as on AWS Lambda). Off by default: the files are then the source's own bytes.
   */
  mappedWeights?: boolean;
}

export interface PinResult {
  uri: string;
  manifest: Manifest;
  manifestSha256: string;
}

/**
 * Pin a model to a bucket: hash the files it needs into a manifest, upload them under
 * `<prefix>/<name>/<manifest-sha>/` with the manifest last, and return that URI.
 */
export async function pinModel(
  source: string,
  to: string,
  opts: PinOptions = {},
): Promise<PinResult> {
  const dest = parseBucketUri(to);
  if (!dest) throw new ModelStoreError(`--to must be an s3:// or r2:// URI, got '${to}'`);
  let dir: string;
  let src: Manifest["source"];
  if (isDirectory(source)) {
    dir = source;
    src = { type: "dir", id: basename(source.replace(/\/+$/, "")), revision: null };
  } else {
    const ref = parseHubRef(opts.revision ? `${source.split("@")[0]}@${opts.revision}` : source);
    dir = await downloadFromHub(ref, new ModelCache(opts.cacheDir), {
      ...opts.hub,
      ...(opts.dtype ? { dtype: opts.dtype } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    });
    const pinned = await localManifest(dir);
    src = { type: "hub", id: ref.id, revision: pinned?.source.revision ?? ref.revision };
  }
  let files = selectModelFiles(await listFiles(dir), opts.dtype);
  if (!files.includes("config.json"))
    throw new ModelStoreError(`${dir} has no config.json: not a model folder`);
  let staged: string | null = null;
  if (opts.mappedWeights) {
    const { stageExternalData } = await import("../onnx/external-data.js");
    ({ dir: staged, files } = await stageExternalData(dir, files));
    dir = staged;
  }
  try {
    return await pinFiles(dir, files, src, dest, opts);
  } finally {
    if (staged) await rm(staged, { recursive: true, force: true });
  }
}

async function pinFiles(
  dir: string,
  files: string[],
  src: Manifest["source"],
  dest: NonNullable<ReturnType<typeof parseBucketUri>>,
  opts: PinOptions,
): Promise<PinResult> {
  const manifest = await buildManifest(dir, files, src);
  const sha = manifestSha(manifest);
  const name = (opts.name ?? src.id.split("/").at(-1) ?? "model").replace(/[^A-Za-z0-9._-]/g, "-");
  const target = { ...dest, prefix: joinKey(dest.prefix, `${name}/${sha}`) };
  const client = await bucketClient(target, opts);
  try {
    await uploadPinned(client, target, dir, manifest);
  } finally {
    client.destroy();
  }
  return {
    uri: `${target.scheme}://${target.bucket}/${target.prefix}`,
    manifest,
    manifestSha256: sha,
  };
}

export interface VerifyReport {
  uri: string;
  manifestSha256: string;
  files: number;
  bytes: number;
}

/** Re-hash every file of a pinned model in its bucket against the manifest. */
export async function verifyPinned(uri: string, opts: BucketOptions = {}): Promise<VerifyReport> {
  const parsed = parseBucketUri(uri);
  if (!parsed) throw new ModelStoreError(`Not an s3:// or r2:// URI: '${uri}'`);
  const client = await bucketClient(parsed, opts);
  try {
    const manifest = await readManifest(client, parsed);
    let bytes = 0;
    for (const f of manifest.files) {
      const key = joinKey(parsed.prefix, f.path);
      const body = await fetchObject(client, parsed, key);
      const hash = createHash("sha256");
      try {
        for await (const chunk of body) hash.update(chunk as Buffer);
      } catch (err) {
        throw new ModelStoreError(
          `Reading ${uri}/${f.path} failed: ${(err as Error).name} ${(err as Error).message}`,
        );
      }
      const actual = hash.digest("hex");
      if (actual !== f.sha256) throw new IntegrityError(f.path, f.sha256, actual);
      bytes += f.size;
    }
    return { uri, manifestSha256: manifestSha(manifest), files: manifest.files.length, bytes };
  } finally {
    client.destroy();
  }
}
