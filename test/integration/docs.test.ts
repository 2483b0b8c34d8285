import { readFileSync } from "node:fs";
import { get } from "node:http";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DOCS_CSP, DOCS_FILES, type DocsFile } from "../../src/api/docs.js";
import { fixture } from "../helpers/fixtures.js";
import { postJson, ROOT, type RunningServer, startServer } from "../helpers/server.js";

const PACKAGE = join(ROOT, "node_modules", "swagger-ui-dist");

/** A GET as sent, without fetch's automatic decompression. */
function rawGet(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>(
    (resolve, reject) => {
      get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      }).on("error", reject);
    },
  );
}

describe("/docs on a server that requires API keys", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(["--model", fixture("bert-embed-mean"), "--api-key", "k"]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("the page is public, under a strict Content-Security-Policy, and loads nothing from elsewhere", async () => {
    expect((await postJson(`${server.url}/v1/embeddings`, { input: "x" })).status).toBe(401);
    const res = await rawGet(`${server.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/html/);
    expect(res.headers["content-security-policy"]).toBeDefined();
    expect(res.headers["content-security-policy"]).toBe(DOCS_CSP);
    expect(DOCS_CSP).toContain("script-src 'self'");
    expect(DOCS_CSP).toContain("style-src 'self'");
    const html = res.body.toString();
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script>|<style|style=/); // nothing inline: the policy forbids it
    for (const src of ["docs/swagger-ui.css", "docs/swagger-ui-bundle.js", "docs/init.js"]) {
      expect(html).toContain(`"${src}"`);
    }
  });

  it("serves swagger-ui-dist's own files, publicly, gzipped when accepted, revalidated by ETag", async () => {
    for (const [file, type] of Object.entries(DOCS_FILES) as Array<[DocsFile, string]>) {
      const bytes = readFileSync(join(PACKAGE, file));
      const plain = await rawGet(`${server.url}/docs/${file}`);
      expect(plain.status, file).toBe(200);
      expect(plain.headers["content-type"]).toBe(type);
      expect(plain.headers["content-encoding"]).toBeUndefined();
      expect(plain.body.equals(bytes), file).toBe(true);

      const gz = await rawGet(`${server.url}/docs/${file}`, { "accept-encoding": "gzip, br" });
      expect(gz.headers["content-encoding"]).toBe("gzip");
      expect(gz.body.length).toBeLessThan(bytes.length);
      expect(gunzipSync(gz.body).equals(bytes), file).toBe(true);

      const etag = gz.headers.etag as string;
      expect(etag).toMatch(/^W\/"swagger-ui-dist-\d+\.\d+\.\d+-gz"$/);
      expect(etag).not.toBe(plain.headers.etag);
      const again = await rawGet(`${server.url}/docs/${file}`, {
        "accept-encoding": "gzip",
        "if-none-match": etag,
      });
      expect(again.status).toBe(304);
      expect(again.body.length).toBe(0);
    }
  });

  it("the initializer points Swagger UI at the spec beside the page, with no validator", async () => {
    const res = await rawGet(`${server.url}/docs/init.js`);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/javascript/);
    const js = res.body.toString();
    expect(js).toContain("SwaggerUIBundle(");
    expect(js).toContain('url: "openapi.json"');
    expect(js).toContain("validatorUrl: null");
    const missing = await rawGet(`${server.url}/docs/swagger-ui-bundle.js.map`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body.toString()).error.type).toBe("NotFoundError");
  });
});
