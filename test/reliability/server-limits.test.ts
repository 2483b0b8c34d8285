import { cpSync, mkdtempSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultMaxConcurrentRequests } from "../../src/config/serve-limits.js";
import { LLM } from "../../src/engine/index.js";
import { fixture } from "../helpers/fixtures.js";
import { rawRequest } from "../helpers/raw-http.js";
import { postJson, type RunningServer, startServer } from "../helpers/server.js";

const MODEL = fixture("bert-embed-mean");

describe("HTTP timeouts are flags and cut slow clients while others are served", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer([
      "--model",
      MODEL,
      "--headers-timeout",
      "1",
      "--request-timeout",
      "2",
      "--keep-alive-timeout",
      "1",
    ]);
  });
  afterAll(async () => {
    await server.stop();
  });

  const served = async () => (await postJson(`${server.url}/embed`, { inputs: "a cat" })).status;

  it("slow headers, a slow body and a silent connection are closed; others answered meanwhile", async () => {
    const slowHeaders = rawRequest(server.url, "POST /embed HTTP/1.1\r\nHost: x\r\n", null, {
      timeoutMs: 20_000,
    });
    const slowBody = rawRequest(
      server.url,
      "POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
      null,
      { timeoutMs: 20_000 },
    );
    const silent = rawRequest(server.url, "", null, { timeoutMs: 20_000 });
    const others = await Promise.all([served(), served(), served()]);
    expect(others).toEqual([200, 200, 200]);
    const [h, b, s] = await Promise.all([slowHeaders, slowBody, silent]);
    // Closed by the server (a 408 or a bare close), not by our 20 s guard.
    for (const r of [h, b, s]) expect(r.status === 408 || r.status === null).toBe(true);
    for (const r of [h, b, s]) expect(r.timedOut).toBe(false);
  });

  it("closes an idle kept-alive connection after --keep-alive-timeout", async () => {
    const { hostname, port } = new URL(server.url);
    const closed = await new Promise<boolean>((resolve) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
      });
      const guard = setTimeout(() => {
        socket.destroy();
        resolve(false);
      }, 20_000);
      socket.on("data", () => undefined);
      socket.on("close", () => {
        clearTimeout(guard);
        resolve(true);
      });
    });
    expect(closed).toBe(true);
  });
});

describe("shutdown", () => {
  it("exits 1 when the shutdown timeout cut an accepted request, 0 otherwise", async () => {
    const server = await startServer(["--model", MODEL, "--shutdown-timeout", "1"]);
    // A request accepted whose body never completes: in flight until the timeout cuts it.
    const stuck = rawRequest(
      server.url,
      "POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
      null,
      { timeoutMs: 20_000 },
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(await server.stop()).toBe(1);
    await stuck;
    expect(server.logs.join("\n")).toMatch(/"cut":1/);

    const idle = await startServer(["--model", MODEL, "--shutdown-timeout", "1"]);
    expect((await postJson(`${idle.url}/embed`, { inputs: "a" })).status).toBe(200);
    expect(await idle.stop()).toBe(0);
  });
});

describe("model folders", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "edgepool-confine-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses a symbolic link that leads outside the folder", async () => {
    const model = join(dir, "escape");
    cpSync(MODEL, model, { recursive: true });
    rmSync(join(model, "tokenizer_config.json"));
    symlinkSync("/etc/hostname", join(model, "tokenizer_config.json"));
    await expect(LLM.load({ model })).rejects.toThrow(/outside the model folder/);
  });

  it("follows links that stay inside it", async () => {
    const model = join(dir, "inside");
    cpSync(MODEL, model, { recursive: true });
    renameSync(join(model, "config.json"), join(model, "real-config.json"));
    symlinkSync("real-config.json", join(model, "config.json"));
    const llm = await LLM.load({ model });
    expect(llm.supportedTasks).toContain("embed");
    await llm.close();
  });
});

describe("defaults", () => {
  it("bounds concurrency at 64 requests per session worker, whatever the token budget", () => {
    expect(defaultMaxConcurrentRequests()).toBe(64);
    expect(defaultMaxConcurrentRequests(2)).toBe(128);
    expect(defaultMaxConcurrentRequests(0)).toBe(64);
  });
});
