import { ModelStoreError } from "./errors.js";

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/**
 * A relative path inside a model folder: `/`-separated segments of letters, digits, `._-`,
 * none of them `.` or `..`, not absolute. Checked before anything is written.
 */
export function safeRelativePath(path: string, what = "path"): string {
  const segments = path.split("/");
  const ok =
    path.length > 0 &&
    path.length <= 512 &&
    !path.startsWith("/") &&
    segments.every((s) => SEGMENT.test(s) && s !== "." && s !== "..");
  if (!ok)
    throw new ModelStoreError(
      `Unsafe ${what} '${path}': use a relative path of letters, digits, '.', '_' and '-'`,
    );
  return path;
}

export interface HubRef {
  id: string;
  revision: string;
}

const ID_PART = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;
const REVISION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** `org/name[@revision]` → id and revision (default `main`), refusing anything path-like. */
export function parseHubRef(spec: string): HubRef {
  const [id, revision = "main", ...extra] = spec.split("@");
  const parts = (id ?? "").split("/");
  if (
    extra.length > 0 ||
    parts.length !== 2 ||
    !parts.every((p) => ID_PART.test(p) && !p.includes("..")) ||
    !REVISION.test(revision) ||
    revision.includes("..")
  ) {
    throw new ModelStoreError(
      `'${spec}' is not a model folder, a bucket URI (s3://, r2://) or a Hub id like 'org/name' or 'org/name@revision'`,
    );
  }
  return { id: id!, revision };
}

export interface BucketUri {
  scheme: "s3" | "r2";
  bucket: string;
  /** Key prefix without leading or trailing slash ("" for the bucket root). */
  prefix: string;
}

/** `s3://bucket/prefix` or `r2://bucket/prefix`. */
export function parseBucketUri(uri: string): BucketUri | null {
  const m = /^(s3|r2):\/\/([a-z0-9][a-z0-9.-]{1,62})(?:\/(.*))?$/.exec(uri);
  if (!m) return null;
  const prefix = (m[3] ?? "").replace(/^\/+|\/+$/g, "");
  if (prefix) safeRelativePath(prefix, "bucket prefix");
  return { scheme: m[1] as "s3" | "r2", bucket: m[2]!, prefix };
}

export function joinKey(prefix: string, path: string): string {
  return prefix ? `${prefix}/${path}` : path;
}
