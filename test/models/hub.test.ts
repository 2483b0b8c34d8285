import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LLM } from "../../src/index.js";
import { listFiles } from "../../src/models/files.js";
import {
  MANIFEST_FILE,
  ModelStoreError,
  parseHubRef,
  parseManifest,
  resolveModel,
} from "../../src/models/index.js";
import { fixture, maxAbsDiff } from "../helpers/fixtures.js";
import { freePort } from "../helpers/s3.js";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const MODEL_DIR = fixture("bert-embed-mean");

/** A local stand-in for the Hub's HTTP API: revision listing, resolve URLs, redirects, 404s. */
function hubServer(seen: IncomingMessage[]): Promise<{ server: Server; endpoint: string }> {
  return new Promise((resolve) => {
    const server = createServer(async (req, res) => {
      seen.push(req);
      const url = new URL(req.url!, "http://x");
      const files = await listFiles(MODEL_DIR);
      if (
        url.pathname === "/api/models/acme/tiny-embed/revision/main" ||
        url.pathname === `/api/models/acme/tiny-embed/revision/${COMMIT}`
      ) {
        res.setHeader("content-type", "application/json");
        res.end(
          JSON.stringify({
            id: "acme/tiny-embed",
            sha: COMMIT,
            siblings: [...files, "README.md"].map((rfilename) => ({ rfilename })),
          }),
        );
        return;
      }
      const resolveMatch = /^\/acme\/tiny-embed\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
      if (resolveMatch && resolveMatch[1] === COMMIT && files.includes(resolveMatch[2]!)) {
        if (resolveMatch[2] === "onnx/model.onnx") {
          // Large files redirect to a CDN, with their sha256 as the linked ETag.
          const body = readFileSync(join(MODEL_DIR, resolveMatch[2]));
          res.statusCode = 302;
          res.setHeader("x-linked-etag", `"${createHash("sha256").update(body).digest("hex")}"`);
          res.setHeader("location", `/cdn/${resolveMatch[2]}`);
          res.end();
          return;
        }
        res.end(readFileSync(join(MODEL_DIR, resolveMatch[2]!)));
        return;
      }
      const cdn = /^\/cdn\/(.+)$/.exec(url.pathname);
      if (cdn && files.includes(cdn[1]!)) {
        const body = readFileSync(join(MODEL_DIR, cdn[1]!));
        res.setHeader("etag", `"${createHash("sha256").update(body).digest("hex")}"`);
        res.end(body);
        return;
      }
      res.statusCode = 404;
      res.end(JSON.stringify({ error: "Repository not found" }));
    });
    server.listen(0, "127.0.0.1", () => {
      resolve({
        server,
        endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
      });
    });
  });
}

describe("Hub download", () => {
  const seen: IncomingMessage[] = [];
  let hub: { server: Server; endpoint: string };
  let cacheDir: string;

  beforeAll(async () => {
    hub = await hubServer(seen);
    cacheDir = mkdtempSync(join(tmpdir(), "edgepool-hub-"));
  });
  afterAll(() => {
    hub.server.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it("downloads the files a model needs at a revision, with HF_TOKEN, and pins them by sha256", async () => {
    const resolved = await resolveModel("acme/tiny-embed", {
      cacheDir,
      hub: { endpoint: hub.endpoint, token: "hf_secret" },
    });
    const manifest = parseManifest(readFileSync(join(resolved.dir, MANIFEST_FILE), "utf8"));
    expect(manifest.source).toEqual({ type: "hub", id: "acme/tiny-embed", revision: COMMIT });
    expect(manifest.files.map((f) => f.path)).not.toContain("README.md");
    expect(manifest.files.map((f) => f.path)).toContain("onnx/model.onnx");
    const resolveRequests = seen.filter((r) => r.url?.includes("/resolve/"));
    expect(resolveRequests.length).toBeGreaterThan(0);
    expect(resolveRequests.every((r) => r.headers.authorization === "Bearer hf_secret")).toBe(true);
    expect(seen.some((r) => r.url?.startsWith("/cdn/"))).toBe(true);

    const fromHub = await LLM.load({
      model: "acme/tiny-embed",
      store: { cacheDir, hub: { endpoint: hub.endpoint } },
    });
    const local = await LLM.load({ model: MODEL_DIR });
    try {
      const [a] = await fromHub.embed("hello world");
      const [b] = await local.embed("hello world");
      expect(maxAbsDiff(a!.outputs.embedding, b!.outputs.embedding)).toBe(0);
    } finally {
      await fromHub.close();
      await local.close();
    }
  });

  it("a missing repository or revision is a clear error", async () => {
    await expect(
      resolveModel("acme/nope", { cacheDir, hub: { endpoint: hub.endpoint } }),
    ).rejects.toThrow(/acme\/nope@main was not found on the Hub/);
    await expect(
      resolveModel("acme/tiny-embed@v9", { cacheDir, hub: { endpoint: hub.endpoint } }),
    ).rejects.toThrow(/not found/);
  });

  it("without network, a cached revision is used and an uncached one fails fast with what to do", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const cached = await resolveModel("acme/tiny-embed", { cacheDir, hub: { endpoint: closed } });
    expect(cached.manifest?.source.revision).toBe(COMMIT);
    const start = performance.now();
    const err = await resolveModel("acme/other", { cacheDir, hub: { endpoint: closed } }).catch(
      (e) => e,
    );
    expect(performance.now() - start).toBeLessThan(5000);
    expect(err).toBeInstanceOf(ModelStoreError);
    expect(err.message).toContain("is not in the cache");
    expect(err.message).toContain("edgepool pin");
  });
});

describe("path safety", () => {
  it("rejects model ids and revisions that look like paths or hold odd characters", () => {
    for (const bad of [
      "../x",
      "org/../x",
      "org/name/extra",
      "org/na me",
      "org/name@../../x",
      "org/.hidden",
      "org/name@a@b",
      "org/name;rm",
    ]) {
      expect(() => parseHubRef(bad), bad).toThrow(ModelStoreError);
    }
    expect(parseHubRef("sentence-transformers/all-MiniLM-L6-v2@main")).toEqual({
      id: "sentence-transformers/all-MiniLM-L6-v2",
      revision: "main",
    });
  });

  it("rejects manifest paths with .., absolute paths or odd characters", () => {
    const make = (path: string) =>
      JSON.stringify({
        version: 1,
        source: { type: "dir", id: "x", revision: null },
        files: [{ path, size: 1, sha256: "a".repeat(64) }],
      });
    for (const bad of ["../x", "/etc/passwd", "a/../../b", "a//b", "a\\b", "a/./b", "x y", ""]) {
      expect(() => parseManifest(make(bad)), bad).toThrow(/Unsafe manifest path/);
    }
    expect(parseManifest(make("onnx/model.onnx")).files).toHaveLength(1);
  });

  it("a path that does not exist is not mistaken for a Hub id", async () => {
    await expect(resolveModel("./no/such/folder")).rejects.toThrow(/does not exist/);
    await expect(resolveModel("/no/such/folder")).rejects.toThrow(/does not exist/);
  });
});
