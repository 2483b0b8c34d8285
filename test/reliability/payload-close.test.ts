import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture } from "../helpers/fixtures.js";
import { rawRequest } from "../helpers/raw-http.js";
import { type RunningServer, startServer } from "../helpers/server.js";

const ATTEMPTS = 10;

describe("a 413 reaches the client that sends Connection: close", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer([
      "--model",
      fixture("bert-embed-mean"),
      "--payload-limit",
      "100000",
    ]);
  });
  afterAll(async () => {
    await server.stop();
  });

  const body = Buffer.from(JSON.stringify({ input: "a".repeat(3_000_000) }));
  const head = (extra: string) =>
    `POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n${extra}\r\n`;

  it(`with Content-Length: ${ATTEMPTS}/${ATTEMPTS} answers are 413`, async () => {
    const results = [];
    for (let i = 0; i < ATTEMPTS; i++) {
      results.push(await rawRequest(server.url, head(`Content-Length: ${body.length}\r\n`), body));
    }
    expect(results.map((r) => r.status)).toEqual(Array(ATTEMPTS).fill(413));
    expect(results[0]!.text).toMatch(/larger than the payload limit of 100000 bytes/);
  });

  it(`chunked: ${ATTEMPTS}/${ATTEMPTS} answers are 413`, async () => {
    const chunked = Buffer.concat([
      Buffer.from(`${body.length.toString(16)}\r\n`),
      body,
      Buffer.from("\r\n0\r\n\r\n"),
    ]);
    const results = [];
    for (let i = 0; i < ATTEMPTS; i++) {
      results.push(await rawRequest(server.url, head("Transfer-Encoding: chunked\r\n"), chunked));
    }
    expect(results.map((r) => r.status)).toEqual(Array(ATTEMPTS).fill(413));
  });
});
