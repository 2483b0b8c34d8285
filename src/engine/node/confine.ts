import { readdirSync, realpathSync } from "node:fs";
import { basename, dirname, join, sep } from "node:path";
import { ModelConfigError } from "../../core/index.js";

/**
 * The folder a model's links may point into: the folder itself, or — for a Hugging Face cache
 * snapshot (`models--org--name/snapshots/<rev>`), whose files link to `../../blobs/` — the
 * repository folder.
 */
function allowedRoot(realDir: string): string {
  const snapshots = dirname(realDir);
  const repo = dirname(snapshots);
  if (basename(snapshots) === "snapshots" && basename(repo).startsWith("models--")) return repo;
  return realDir;
}

/**
 * Refuse a model folder holding a symbolic link that resolves outside it (or dangles): a
 * folder from a bucket, an archive or another user must not make the server read other files.
 */
export function checkConfined(dir: string): void {
  const realDir = realpathSync(dir);
  const root = allowedRoot(realDir);
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) walk(full);
      if (!e.isSymbolicLink()) continue;
      let target: string;
      try {
        target = realpathSync(full);
      } catch {
        throw new ModelConfigError(`${full} is a broken symbolic link`);
      }
      if (target !== root && !target.startsWith(root + sep)) {
        throw new ModelConfigError(
          `${full} links to ${target}, outside the model folder: refusing to follow it`,
        );
      }
    }
  };
  walk(realDir);
}
