import { createHash, randomBytes } from "node:crypto";

/** sha256 of a key, hex: what the store keeps and looks keys up by. */
export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** The part of a key that may be shown (in `keys list`), never enough to use it. */
export function keyPrefix(key: string): string {
  return key.slice(0, 10);
}

/** A new secret: `ep_` + 32 random bytes (base64url), 256 bits. */
export function newSecret(): { key: string; keyHash: string; keyPrefix: string } {
  const key = `ep_${randomBytes(32).toString("base64url")}`;
  return { key, keyHash: hashKey(key), keyPrefix: keyPrefix(key) };
}

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString("hex")}`;
}

/** A static key's ledger identity: `static:` + the start of its hash (the key itself never). */
export function staticKeyId(key: string): string {
  return `static:${hashKey(key).slice(0, 16)}`;
}
