import type { FolderReader } from "../engine/folder.js";
import { sha256Hex } from "../metering/digest.js";
import { IntegrityError, ModelStoreError } from "../models/errors.js";
import { MANIFEST_FILE, type Manifest, parseManifest } from "../models/manifest-text.js";
import type { R2Bucket } from "./bindings.js";

async function fetchBytes(bucket: R2Bucket, key: string): Promise<Uint8Array> {
  const object = await bucket.get(key);
  if (!object) throw new ModelStoreError(`r2://${key} does not exist`);
  return new Uint8Array(await object.arrayBuffer());
}

/**
 * A pinned model in R2 as `edgepool pin` lays it out (`<name>/<manifest-sha256>/…`): the
 * manifest's bytes must hash to the prefix's sha256, and every file read must match the
 * manifest's size and sha256 (Web Crypto) before it is used.
 */
export async function pinnedR2Folder(
  bucket: R2Bucket,
  prefix: string,
): Promise<{ reader: FolderReader; manifest: Manifest; bytes: number }> {
  const base = prefix.replace(/\/$/, "");
  const pin = base.split("/").at(-1) ?? "";
  const text = await fetchBytes(bucket, `${base}/${MANIFEST_FILE}`);
  const actual = await sha256Hex(text);
  if (actual !== pin) throw new IntegrityError(`${base}/${MANIFEST_FILE}`, pin, actual);
  const manifest = parseManifest(new TextDecoder().decode(text));
  const files = new Map(manifest.files.map((f) => [f.path, f]));
  const reader: FolderReader = {
    locate: (rel) => (rel === "" ? `r2://${base}` : `r2://${base}/${rel}`),
    exists: async (rel) => files.has(rel),
    read: async (rel) => {
      const entry = files.get(rel);
      if (!entry) throw new ModelStoreError(`${rel} is not in the manifest of r2://${base}`);
      const bytes = await fetchBytes(bucket, `${base}/${rel}`);
      const sha = await sha256Hex(bytes);
      if (sha !== entry.sha256 || bytes.byteLength !== entry.size) {
        throw new IntegrityError(`${base}/${rel}`, entry.sha256, sha);
      }
      return bytes;
    },
  };
  return { reader, manifest, bytes: manifest.files.reduce((n, f) => n + f.size, 0) };
}
