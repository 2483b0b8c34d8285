import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { inflateRawSync } from "node:zlib";

export interface ZipEntry {
  name: string;
  size: number;
  compressedSize: number;
  method: number;
  offset: number;
}

/** The entries of a zip file, read from its central directory. */
export function zipEntries(file: string): { buffer: Buffer; entries: ZipEntry[] } {
  const buffer = readFileSync(file);
  let eocd = buffer.length - 22;
  while (eocd >= 0 && buffer.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error(`${file} is not a zip file`);
  const count = buffer.readUInt16LE(eocd + 10);
  let p = buffer.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (buffer.readUInt32LE(p) !== 0x02014b50) throw new Error("bad central directory");
    const nameLength = buffer.readUInt16LE(p + 28);
    entries.push({
      method: buffer.readUInt16LE(p + 10),
      compressedSize: buffer.readUInt32LE(p + 20),
      size: buffer.readUInt32LE(p + 24),
      offset: buffer.readUInt32LE(p + 42),
      name: buffer.toString("utf8", p + 46, p + 46 + nameLength),
    });
    p += 46 + nameLength + buffer.readUInt16LE(p + 30) + buffer.readUInt16LE(p + 32);
  }
  return { buffer, entries };
}

/** Extract a zip (stored or deflated entries) into `dest`. */
export function unzip(file: string, dest: string): void {
  const { buffer, entries } = zipEntries(file);
  for (const e of entries) {
    if (e.name.endsWith("/")) continue;
    const start =
      e.offset + 30 + buffer.readUInt16LE(e.offset + 26) + buffer.readUInt16LE(e.offset + 28);
    const raw = buffer.subarray(start, start + e.compressedSize);
    const target = join(dest, e.name);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, e.method === 8 ? inflateRawSync(raw) : raw);
  }
}
