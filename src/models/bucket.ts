import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { PutObjectCommandInput, S3Client } from "@aws-sdk/client-s3";
import type { ModelCache } from "./cache.js";
import { ModelStoreError } from "./errors.js";
import {
  MANIFEST_FILE,
  type Manifest,
  manifestSha,
  manifestText,
  parseManifest,
} from "./manifest.js";
import { type BucketUri, joinKey } from "./paths.js";
import { progress } from "./progress.js";

export interface BucketOptions {
  /** S3-compatible endpoint (R2, MinIO, …): `--s3-endpoint` or `AWS_ENDPOINT_URL`. */
  endpoint?: string;
  region?: string;
  /**
   * Longest wait, in milliseconds, to connect and then between bytes of an answer
   * (`--s3-timeout`); each request is tried up to 3 times.
   */
  timeoutMs?: number;
  /** Download progress off a terminal (a bar is drawn on one). */
  log?: (msg: string) => void;
}

export const DEFAULT_S3_TIMEOUT_MS = 10_000;
const S3_ATTEMPTS = 3;

/** The AWS SDK, loaded only when a bucket is used (it costs start-up time otherwise). */
const sdk = () => import("@aws-sdk/client-s3");

/** An S3 client for the URI: R2 and MinIO through their endpoint, path-style addressing there. */
export async function bucketClient(uri: BucketUri, opts: BucketOptions = {}): Promise<S3Client> {
  const { S3Client } = await sdk();
  const endpoint =
    opts.endpoint ??
    process.env.AWS_ENDPOINT_URL ??
    (uri.scheme === "r2" ? process.env.R2_ENDPOINT : undefined);
  if (uri.scheme === "r2" && !endpoint) {
    throw new ModelStoreError(
      "r2:// needs an endpoint: --s3-endpoint https://<account>.r2.cloudflarestorage.com (or AWS_ENDPOINT_URL / R2_ENDPOINT)",
    );
  }
  return new S3Client({
    region:
      opts.region ??
      process.env.AWS_REGION ??
      process.env.AWS_DEFAULT_REGION ??
      (uri.scheme === "r2" ? "auto" : "us-east-1"),
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    // An endpoint that accepts and never answers must fail, not hang: bound the connection and
    // every silence between bytes (not the whole transfer, which may be gigabytes).
    requestHandler: {
      connectionTimeout: opts.timeoutMs ?? DEFAULT_S3_TIMEOUT_MS,
      socketTimeout: opts.timeoutMs ?? DEFAULT_S3_TIMEOUT_MS,
    },
    maxAttempts: S3_ATTEMPTS,
    // Integrity is ours (sha256 per file); keep requests plain so any S3-compatible store accepts them.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

function describe(err: unknown): string {
  const e = err as {
    name?: string;
    message?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
  };
  return [e.name, e.$metadata?.httpStatusCode, e.code ?? e.message].filter(Boolean).join(" ");
}

/** An object's bytes as a Node stream. */
export async function getObject(client: S3Client, bucket: string, key: string): Promise<Readable> {
  const { GetObjectCommand } = await sdk();
  const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return res.Body as Readable;
}

/** `getObject`, failing as a ModelStoreError that names the object (no stack trace). */
export async function fetchObject(
  client: S3Client,
  uri: BucketUri,
  key: string,
): Promise<Readable> {
  try {
    return await getObject(client, uri.bucket, key);
  } catch (err) {
    throw new ModelStoreError(
      `Could not download ${uri.scheme}://${uri.bucket}/${key}: ${describe(err)}`,
    );
  }
}

async function readText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function readManifest(client: S3Client, uri: BucketUri): Promise<Manifest> {
  const key = joinKey(uri.prefix, MANIFEST_FILE);
  try {
    const body = await getObject(client, uri.bucket, key);
    const manifest = parseManifest(await readText(body));
    const last = uri.prefix.split("/").at(-1) ?? "";
    if (/^[0-9a-f]{64}$/.test(last) && manifestSha(manifest) !== last) {
      throw new ModelStoreError(
        `${uri.scheme}://${uri.bucket}/${key} does not match its pin: expected manifest sha256 ${last}, got ${manifestSha(manifest)}`,
      );
    }
    return manifest;
  } catch (err) {
    if (err instanceof ModelStoreError) throw err;
    if ((err as { name?: string }).name === "NoSuchKey") {
      throw new ModelStoreError(
        `No ${MANIFEST_FILE} at ${uri.scheme}://${uri.bucket}/${key}: pin the model with \`edgepool pin\` first`,
      );
    }
    throw new ModelStoreError(
      `Could not read ${uri.scheme}://${uri.bucket}/${key}: ${describe(err)}`,
    );
  }
}

/**
 * The cached snapshot of a URI pinned by manifest sha256 (its last path segment), when the cache
 * already holds it: no request is needed (a function instance restarting over a warm `/tmp`).
 */
async function cachedPin(uri: BucketUri, cache: ModelCache): Promise<string | null> {
  const sha = uri.prefix.split("/").at(-1) ?? "";
  if (!/^[0-9a-f]{64}$/.test(sha)) return null;
  const dir = cache.snapshotPath(sha);
  try {
    const manifest = parseManifest(await readFile(join(dir, MANIFEST_FILE), "utf8"));
    return manifestSha(manifest) === sha ? dir : null;
  } catch {
    return null;
  }
}

/**
 * Download a pinned model into the cache (files already there by sha256 are reused); returns its
 * folder and the sha256s of the blobs downloaded (and so hashed) by this call.
 */
export async function fetchFromBucket(
  uri: BucketUri,
  cache: ModelCache,
  opts: BucketOptions = {},
): Promise<{ dir: string; downloaded: ReadonlySet<string> }> {
  const cached = await cachedPin(uri, cache);
  if (cached) return { dir: cached, downloaded: new Set() };
  const client = await bucketClient(uri, opts);
  try {
    const manifest = await readManifest(client, uri);
    const missing = [];
    for (const f of manifest.files) if (!(await cache.hasBlob(f.sha256, f.size))) missing.push(f);
    const bar = progress(
      `${uri.scheme}://${uri.bucket}/${uri.prefix}`,
      missing.reduce((n, f) => n + f.size, 0),
      opts.log ? { log: opts.log } : {},
    );
    try {
      for (const f of missing) {
        const key = joinKey(uri.prefix, f.path);
        const body = await fetchObject(client, uri, key);
        try {
          await cache.putStream(body, { path: f.path, sha256: f.sha256, size: f.size }, (n) =>
            bar.add(n),
          );
        } catch (err) {
          if (err instanceof ModelStoreError) throw err;
          throw new ModelStoreError(
            `Downloading ${uri.scheme}://${uri.bucket}/${key} failed: ${describe(err)}`,
          );
        }
      }
    } finally {
      bar.stop();
    }
    const dir = await cache.materialize(manifest);
    return { dir, downloaded: new Set(missing.map((f) => f.sha256)) };
  } finally {
    client.destroy();
  }
}

/** Upload a folder's manifest files, then the manifest last, under `prefix`. */
export async function uploadPinned(
  client: S3Client,
  uri: BucketUri,
  dir: string,
  manifest: Manifest,
): Promise<void> {
  const { PutObjectCommand } = await sdk();
  const put = async (
    key: string,
    body: Pick<PutObjectCommandInput, "Body" | "ContentLength" | "ContentType">,
  ) => {
    try {
      await client.send(new PutObjectCommand({ Bucket: uri.bucket, Key: key, ...body }));
    } catch (err) {
      throw new ModelStoreError(
        `Could not upload ${uri.scheme}://${uri.bucket}/${key}: ${describe(err)}`,
      );
    }
  };
  for (const f of manifest.files) {
    const full = join(dir, f.path);
    await put(joinKey(uri.prefix, f.path), {
      Body: createReadStream(full),
      ContentLength: (await stat(full)).size,
    });
  }
  await put(joinKey(uri.prefix, MANIFEST_FILE), {
    Body: manifestText(manifest),
    ContentType: "application/json",
  });
}
