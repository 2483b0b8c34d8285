import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { fixture } from "../helpers/fixtures.js";
import { S3_ENV } from "../helpers/s3.js";

describe("bucket calls against an endpoint that accepts and never answers", () => {
  let server: Server;
  let endpoint: string;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    server = createServer((s) => {
      sockets.push(s);
      s.on("error", () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  const env = { ...S3_ENV, EDGEPOOL_CACHE_DIR: "/tmp/edgepool-reliability-s3-cache" };
  const flags = () => ["--s3-endpoint", endpoint, "--s3-timeout", "1"];

  it.each([
    ["verify", () => ["verify", "s3://bucket/models/m", ...flags()], 2],
    ["pin", () => ["pin", fixture("bert-embed-mean"), "--to", "s3://bucket/models", ...flags()], 2],
    [
      "serve",
      () => [
        "serve",
        "--model",
        "s3://bucket/models/m",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        ...flags(),
      ],
      2,
    ],
  ])("%s fails with a clear error instead of hanging", async (_, args, code) => {
    const r = await runCli(args(), env, 60_000);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(code);
    const out = r.stderr + r.stdout;
    expect(out).toMatch(/Could not (read|upload|download) s3:\/\/bucket\//);
    expect(out).not.toMatch(/\n\s+at /);
  });
});
