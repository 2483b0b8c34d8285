import { sha256Hex, toHex } from "./digest.js";

/** sha256 of a key, hex: what the store keeps and looks keys up by (Web Crypto: Node and Workers). */
export function hashKey(key: string): Promise<string> {
  return sha256Hex(key);
}

/** The part of a key that may be shown (in `keys list`), never enough to use it. */
export function keyPrefix(key: string): string {
  return key.slice(0, 10);
}

function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** base64url without padding (RFC 4648 §5), as Node's `Buffer#toString("base64url")`. */
function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** A new secret: `ep_` + 32 random bytes (base64url), 256 bits. */
export async function newSecret(): Promise<{ key: string; keyHash: string; keyPrefix: string }> {
  const key = `ep_${base64url(randomBytes(32))}`;
  return { key, keyHash: await hashKey(key), keyPrefix: keyPrefix(key) };
}

export function newId(prefix: string): string {
  return `${prefix}_${toHex(randomBytes(12))}`;
}

/** A static key's ledger identity: `static:` + the start of its hash (the key itself never). */
export async function staticKeyId(key: string): Promise<string> {
  return `static:${(await hashKey(key)).slice(0, 16)}`;
}
