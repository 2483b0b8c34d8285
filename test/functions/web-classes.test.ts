import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { OUT_DIR } from "../../scripts/build-functions.js";
import { LightHeaders, LightRequest, LightResponse } from "../../src/lambda/web-classes.js";
import { fixture } from "../helpers/fixtures.js";
import { requireBundles } from "../helpers/functions.js";

const ONCE = join(import.meta.dirname, "..", "..", "bench", "function-cold.mjs");

/** The same operations on Node's Headers and on the light ones give the same results. */
function headerScript(H: new (init?: never) => Headers) {
  const h = new H([
    ["Content-Type", " application/json "],
    ["X-A", "1"],
  ] as never);
  h.append("x-a", "2");
  h.append("Set-Cookie", "a=1");
  h.append("set-cookie", "b=2");
  h.set("X-B", "3");
  h.delete("x-missing");
  const seen: string[] = [];
  h.forEach((v, k) => {
    seen.push(`${k}=${v}`);
  });
  const copy = new H(h as never);
  copy.delete("x-b");
  const fromRecord = new H({ Accept: "text/plain" } as never);
  return {
    get: [h.get("content-type"), h.get("X-A"), h.get("set-cookie"), h.get("nope")],
    has: [h.has("X-B"), h.has("x-c")],
    entries: [...h],
    keys: [...h.keys()],
    values: [...h.values()],
    seen,
    cookies: h.getSetCookie(),
    copy: [...copy],
    original: h.has("x-b"),
    record: [...fromRecord],
  };
}

describe("light Request, Response and Headers (a function's, instead of Node's)", () => {
  it("Headers behave as Node's", () => {
    expect(headerScript(LightHeaders as never)).toEqual(headerScript(Headers));
    for (const H of [Headers, LightHeaders] as Array<new () => Headers>) {
      expect(() => new H().set("bad name", "x"), H.name).toThrow(TypeError);
      expect(() => new H().append("x-ok", "a\r\nb"), H.name).toThrow(TypeError);
    }
  });

  it("Requests: URL, method and body as Node's", async () => {
    const url = "https://h.example/a/../b c?x=1#frag";
    for (const [R, name] of [
      [Request, "Node"],
      [LightRequest, "light"],
    ] as const) {
      const r = new (R as typeof Request)(url, {
        method: "post",
        headers: { "Content-Type": "application/json" },
        body: new TextEncoder().encode('{"a":1}'),
      });
      expect([r.url, r.method, r.headers.get("content-type")], name).toEqual([
        "https://h.example/b%20c?x=1#frag",
        "POST",
        "application/json",
      ]);
      expect(await r.clone().json(), name).toEqual({ a: 1 });
      expect(await r.text(), name).toBe('{"a":1}');
      expect(r.bodyUsed, name).toBe(true);
      await expect(r.text(), name).rejects.toThrow(TypeError);
      const text = new (R as typeof Request)("http://h/", { method: "PUT", body: "hi" });
      expect(text.headers.get("content-type"), name).toBe("text/plain;charset=UTF-8");
      expect(new (R as typeof Request)("http://h/").body, name).toBeNull();
    }
    const piped = new LightRequest(new LightRequest("http://h/", { method: "POST", body: "x" }), {
      body: new LightRequest("http://h/", { method: "POST", body: "streamed" }).body,
    });
    expect(await piped.text()).toBe("streamed");
  });

  it("Responses: status, headers and bodies as Node's", async () => {
    const bodies = ["text", new TextEncoder().encode("bytes"), null] as const;
    for (const body of bodies) {
      const node = new Response(body, { status: 201, headers: { "X-A": "1" } });
      const light = new LightResponse(body, { status: 201, headers: { "X-A": "1" } });
      expect([light.status, light.ok, [...light.headers]]).toEqual([
        node.status,
        node.ok,
        [...node.headers],
      ]);
      expect(await light.clone().text()).toBe(await node.clone().text());
      expect(new Uint8Array(await light.arrayBuffer())).toEqual(
        new Uint8Array(await node.arrayBuffer()),
      );
    }
    // Re-made from another response's stream and init, as Hono does when it replaces one.
    const first = new LightResponse('{"a":1}', { status: 404, headers: { "x-b": "2" } });
    const again = new LightResponse(first.body, first);
    expect([again.status, again.headers.get("x-b"), await again.json()]).toEqual([
      404,
      "2",
      { a: 1 },
    ]);
    const json = LightResponse.json({ b: 2 }, { status: 202 });
    expect([json.status, json.headers.get("content-type"), await json.json()]).toEqual([
      202,
      "application/json",
      { b: 2 },
    ]);
    expect(() => new LightResponse(null, { status: 99 })).toThrow(RangeError);
    expect(() => new Response(null, { status: 99 })).toThrow(RangeError);
  });

  it("a function's cold start never loads Node's fetch implementation", () => {
    requireBundles(["embeddings"]);
    const out = execFileSync(process.execPath, [ONCE, join(OUT_DIR, "embeddings", "index.js")], {
      encoding: "utf8",
      env: { PATH: process.env.PATH, EDGEPOOL_MODEL_URI: fixture("bert-embed-mean") },
    });
    const last = JSON.parse(out.trim().split("\n").at(-1)!) as {
      answer: { status: number; body: string };
      undici: boolean;
    };
    expect(last.answer.status).toBe(200);
    expect(JSON.parse(last.answer.body).data).toHaveLength(1);
    expect(last.undici).toBe(false);
  });

  it("the streaming handler sends a light response whole", async () => {
    requireBundles(["embeddings"]);
    // Lambda's Node runtime provides `awslambda`; here a stand-in with its contract, set before
    // the bundle is imported in a child process.
    const script = `
      const chunks = [];
      let meta = null;
      globalThis.awslambda = {
        streamifyResponse: (h) => h,
        HttpResponseStream: { from: (s, m) => { meta = m; return s; } },
      };
      const { Writable } = await import("node:stream");
      const sink = new Writable({ write(c, _e, cb) { chunks.push(Buffer.from(c)); cb(); } });
      const done = new Promise((r) => sink.on("finish", r));
      const { streamHandler } = await import(${JSON.stringify(pathToFileURL(join(OUT_DIR, "embeddings", "index.js")).href)});
      await streamHandler({ version: "2.0", routeKey: "POST /v1/embeddings", rawPath: "/v1/embeddings",
        rawQueryString: "", headers: { "content-type": "application/json" },
        body: JSON.stringify({ input: ["a cat", "a dog"] }), isBase64Encoded: false,
        requestContext: { http: { method: "POST", path: "/v1/embeddings", protocol: "HTTP/1.1",
        sourceIp: "127.0.0.1" } } }, sink, {});
      await done;
      console.log(JSON.stringify({ meta, body: Buffer.concat(chunks).toString() }));`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      env: {
        PATH: process.env.PATH,
        EDGEPOOL_MODEL_URI: fixture("bert-embed-mean"),
        EDGEPOOL_LOG_LEVEL: "warn",
      },
    });
    const { meta, body } = JSON.parse(out.trim().split("\n").at(-1)!) as {
      meta: { statusCode: number; headers: Record<string, string> };
      body: string;
    };
    expect(meta.statusCode).toBe(200);
    expect(meta.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(body).data).toHaveLength(2);
  });
});
