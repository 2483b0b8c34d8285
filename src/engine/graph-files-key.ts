import { createHash } from "node:crypto";
import { readdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";

/**
 * A cache key for an ONNX graph: its path and the device, inode, size, modification and change
 * times of every file beside it (external data included). A replaced, edited or touched file
 * gives a new key.
 */
export async function graphFilesKey(onnxPath: string): Promise<string> {
  const dir = dirname(onnxPath);
  const names = (await readdir(dir)).sort();
  const ids = await Promise.all(
    names.map(async (name) => {
      const s = await stat(join(dir, name), { bigint: true });
      return [name, s.dev, s.ino, s.size, s.mtimeNs, s.ctimeNs].join(":");
    }),
  );
  return createHash("sha256")
    .update([onnxPath, ...ids].join("\n"))
    .digest("hex");
}
