import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAMILY_NAMES, familyPaths } from "../../src/api/families.js";
import { TEI_ROUTES } from "../../src/api/tei-errors.js";
import { fixture } from "../helpers/fixtures.js";
import { type RunningServer, startServer } from "../helpers/server.js";

/** A small seeded PRNG so a failure can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every POST route (the route families' paths); TEI-only routes answer errors in TEI's shape. */
const PATHS = familyPaths(FAMILY_NAMES);
const TEI_PATHS = TEI_ROUTES;

const FIELDS = [
  "input",
  "inputs",
  "texts",
  "messages",
  "query",
  "documents",
  "text_1",
  "text_2",
  "dimensions",
  "encoding_format",
  "embed_dtype",
  "truncate_prompt_tokens",
  "top_n",
  "task",
  "tokens",
  "prompt",
  "use_activation",
  "model",
  "truncation_side",
  "endianness",
];

function value(r: () => number, depth = 0): unknown {
  const k = Math.floor(r() * 14);
  switch (k) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return Math.floor((r() - 0.5) * 2 ** Math.floor(r() * 60));
    case 3:
      return (r() - 0.5) * 1e308 * (r() < 0.1 ? 10 : 1);
    case 4:
      return "";
    case 5:
      return "cat ".repeat(Math.floor(r() * 40));
    case 6:
      return String.fromCharCode(...Array.from({ length: 8 }, () => Math.floor(r() * 0xffff)));
    case 7:
      return Array.from({ length: Math.floor(r() * 5) }, () => Math.floor(r() * 300) - 10);
    case 8:
      return depth > 2
        ? []
        : Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth + 1));
    case 9:
      return depth > 2
        ? {}
        : { text: value(r, depth + 1), role: "user", content: value(r, depth + 1) };
    case 10:
      return ["float", "base64", "embed", "token_embed", "left", "big", "float16", "-1"][
        Math.floor(r() * 8)
      ];
    case 11:
      return -1;
    case 12:
      return [["a", "b"]];
    default:
      return "hello world";
  }
}

function body(r: () => number): string {
  const kind = r();
  if (kind < 0.08) return `${"{".repeat(Math.floor(r() * 5))}"input":`;
  if (kind < 0.12) return JSON.stringify(value(r));
  const obj: Record<string, unknown> = {};
  const n = Math.floor(r() * 5);
  for (let i = 0; i < n; i++) obj[FIELDS[Math.floor(r() * FIELDS.length)]!] = value(r);
  const text = JSON.stringify(obj);
  if (kind < 0.2) return text.slice(0, Math.floor(r() * text.length));
  return text;
}

describe("fuzzing", () => {
  let servers: RunningServer[];
  beforeAll(async () => {
    servers = await Promise.all(
      ["bert-embed-mean", "bert-cross-encoder", "decoder-embed-last", "bert-token-classifier"].map(
        (m) =>
          startServer([
            "--model",
            fixture(m),
            "--payload-limit",
            "20000",
            "--max-client-batch-size",
            "8",
          ]),
      ),
    );
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it("1,000 malformed requests get no 5xx and leave the servers alive", async () => {
    const r = rng(20261130);
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const server = servers[i % servers.length]!;
      const path = PATHS[Math.floor(r() * PATHS.length)]!;
      const payload = body(r);
      const contentType = r() < 0.05 ? "text/plain" : "application/json";
      const res = await fetch(`${server.url}${path}`, {
        method: "POST",
        headers: { "content-type": contentType },
        body: payload,
      });
      const text = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500)
        failures.push(`${res.status} ${path} ${payload.slice(0, 200)} -> ${text.slice(0, 200)}`);
      if (res.status >= 400) {
        const parsed = JSON.parse(text);
        const teiShape = TEI_PATHS.has(path) || (path.endsWith("rerank") && "error_type" in parsed);
        if (teiShape) {
          expect(typeof parsed.error).toBe("string");
          expect(["Validation", "Backend", "Overloaded", "Unhealthy"]).toContain(parsed.error_type);
        } else expect(parsed.error.code).toBe(res.status);
      }
    }
    expect(failures).toEqual([]);
    expect([...statuses.keys()].some((s) => s === 200)).toBe(true);
    for (const s of servers) expect((await fetch(`${s.url}/health`)).status).toBe(200);
  });
});
