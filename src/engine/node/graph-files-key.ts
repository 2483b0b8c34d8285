import { createHash } from "node:crypto";
import { readdir, realpath, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * A cache key for an ONNX graph: its real path and the device, inode, size, modification and
 * change times of every file beside it (external data included). A replaced, edited or touched
 * file gives a new key; the same file reached through another path (relative, a linked folder) does not.
 * Also returns that real path.
 */
export async function graphFilesKey(onnxPath: string): Promise<{ key: string; real: string }> {
  // The folder's real path (a linked file, as in Hugging Face's cache, keeps its folder).
  const dir = await realpath(dirname(onnxPath));
  const real = join(dir, basename(onnxPath));
  const names = (await readdir(dir)).sort();
  const ids = await Promise.all(
    names.map(async (name) => {
      const s = await stat(join(dir, name), { bigint: true });
      return [name, s.dev, s.ino, s.size, s.mtimeNs, s.ctimeNs].join(":");
    }),
  );
  const key = createHash("sha256")
    .update([real, ...ids].join("\n"))
    .digest("hex");
  return { key, real };
}
