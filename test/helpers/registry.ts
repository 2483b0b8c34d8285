import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { ROOT } from "./server.js";

interface LockEntry {
  version?: string;
  integrity?: string;
  link?: boolean;
  [field: string]: unknown;
}

/** The fields of a lock entry that a registry's version document carries too. */
const MANIFEST_FIELDS = [
  "dependencies",
  "optionalDependencies",
  "peerDependencies",
  "peerDependenciesMeta",
  "bin",
  "engines",
  "os",
  "cpu",
  "hasInstallScript",
  "license",
];

/**
 * A stand-in npm registry on 127.0.0.1 holding exactly the versions package-lock.json names, each
 * with its integrity: npm resolves against it and takes the tarballs from its own cache (by
 * integrity), as an install of a packed edgepool does with the registry warm. A tarball missing
 * from the cache is a 404 here, never a download.
 */
export async function lockRegistry(): Promise<{ url: string; close(): Promise<void> }> {
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, LockEntry>;
  };
  const docs = new Map<string, Record<string, Record<string, unknown>>>();
  for (const [path, entry] of Object.entries(lock.packages)) {
    const at = path.lastIndexOf("node_modules/");
    if (at < 0 || entry.link || !entry.version || !entry.integrity) continue;
    const name = path.slice(at + "node_modules/".length);
    const versions = docs.get(name) ?? {};
    const doc: Record<string, unknown> = {
      name,
      version: entry.version,
      integrity: entry.integrity,
    };
    for (const f of MANIFEST_FIELDS) if (entry[f] !== undefined) doc[f] = entry[f];
    versions[entry.version] = doc;
    docs.set(name, versions);
  }
  let url = "";
  const server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? "/").slice(1).split("?")[0]!);
    const versions = docs.get(name);
    if (!versions) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":"Not found"}');
      return;
    }
    const withDist = Object.fromEntries(
      Object.entries(versions).map(([v, { integrity, ...doc }]) => {
        const tarball = `${url}/${name}/-/${name.split("/").at(-1)}-${v}.tgz`;
        return [v, { ...doc, dist: { integrity, tarball } }];
      }),
    );
    const latest = Object.keys(versions).sort((a, b) =>
      a.localeCompare(b, undefined, { numeric: true }),
    );
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ name, "dist-tags": { latest: latest.at(-1) }, versions: withDist }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { url, close: () => new Promise((r) => server.close(() => r())) };
}
