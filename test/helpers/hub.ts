import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { listFiles } from "../../src/models/files.js";

export interface HubStandIn {
  /** For HF_ENDPOINT. */
  endpoint: string;
  /** Every request's path, in order. */
  paths: string[];
  close(): Promise<void>;
}

/**
 * A local stand-in for the Hugging Face Hub serving local folders under Hub ids (one commit each,
 * `main`): the revision listing the client asks for and the resolve URLs. Lets a command written
 * with a real model id run as written, offline, on a fixture's files.
 */
export async function hubStandIn(models: Record<string, string>): Promise<HubStandIn> {
  const listings = new Map<string, string[]>();
  for (const [id, dir] of Object.entries(models)) listings.set(id, await listFiles(dir));
  const commit = "c0ffee0000000000000000000000000000000000";
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://hub");
    paths.push(url.pathname);
    const listing = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/[^/]+$/.exec(url.pathname);
    const files = listing ? listings.get(listing[1]!) : undefined;
    if (listing && files) {
      const dir = models[listing[1]!]!;
      const siblings = files.map((rfilename) => ({
        rfilename,
        size: readFileSync(join(dir, rfilename)).length,
      }));
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ id: listing[1], sha: commit, siblings }));
      return;
    }
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const id = resolve?.[1];
    if (resolve && id && resolve[2] === commit && listings.get(id)?.includes(resolve[3]!)) {
      res.end(readFileSync(join(models[id]!, resolve[3]!)));
      return;
    }
    res.statusCode = 404;
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ error: "Repository not found" }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    paths,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
