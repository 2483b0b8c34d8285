import { spawn } from "node:child_process";
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { type HubStandIn, hubStandIn } from "../helpers/hub.js";
import { ROOT } from "../helpers/server.js";
import { stopGroup } from "../rehearse/doc.js";

/**
 * The README's and docs/'s code blocks, each run by a test. A block follows the comment that
 * names it and says what its test changes, if anything:
 *
 *   <!-- test: id (the test file: what it substitutes) -->
 *   ```sh
 *
 * docs/deploy.md is the deploy rehearsal's script and keeps its own tags (test/rehearse/doc.ts).
 * A test takes a block by `docBlock(file, id)`, both string literals; test/docs/blocks.test.ts checks that
 * every block is tagged and that some test takes it.
 */
export interface Block {
  file: string;
  id: string | null;
  note: string;
  lang: string;
  code: string;
}

const FENCE =
  /(?:<!--\s*test:\s*([\w.-]+)\s*(?:\(([\s\S]*?)\))?\s*-->\s*\n)?```(\w*)\n([\s\S]*?)```/g;

/** Every fenced block of a file (a path relative to the repository root). */
export function blocks(file: string): Block[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  return [...text.matchAll(FENCE)].map(([, id, note, lang, code]) => ({
    file,
    id: id ?? null,
    note: (note ?? "").trim(),
    lang: lang ?? "",
    code: code ?? "",
  }));
}

/** The files whose blocks are tagged this way: the README and docs/ but deploy.md. */
export function taggedFiles(): string[] {
  const docs = readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md") && f !== "deploy.md")
    .map((f) => `docs/${f}`);
  return ["README.md", ...docs.sort()];
}

export function docBlock(file: string, id: string): string {
  const b = blocks(file).find((x) => x.id === id);
  if (!b) throw new Error(`${file} has no block tagged <!-- test: ${id} -->`);
  return b.code;
}

/**
 * PATH with the caller's PATH first (when given), this Node, then the repository's
 * node_modules/.bin (npx, as a user's shell).
 */
export function shellEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // An outer `npm test`'s settings are not the reader's.
  for (const k of Object.keys(env)) if (/^npm_/i.test(k)) delete env[k];
  const path = [extra.PATH, dirname(process.execPath), join(ROOT, "node_modules", ".bin")];
  return { ...env, ...extra, PATH: [...path, process.env.PATH].filter(Boolean).join(":") };
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a program to its end (never rejects: the caller asserts the exit code). */
export function exec(
  command: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Ran> {
  return new Promise((resolve) => {
    const p = spawn(command, args, {
      cwd: opts.cwd ?? ROOT,
      env: shellEnv(opts.env),
      timeout: opts.timeoutMs ?? 120_000,
    });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    p.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    p.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A shell block, as a reader pastes it (bash, stopping at the first failing command). */
export function runSh(code: string, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return exec("bash", ["-c", `set -euo pipefail\n${code}`], opts);
}

let snippets = 0;

/**
 * A TypeScript block, as a user runs it in a project: written to `dir` (its packages resolve
 * from `dir`'s node_modules, this repository's when `dir` has none) and run by Node, which strips
 * the types.
 */
export function runTs(code: string, dir: string, env: NodeJS.ProcessEnv = {}) {
  const file = join(dir, `snippet-${++snippets}.mts`);
  writeFileSync(file, code);
  return exec(process.execPath, [file], { cwd: dir, env });
}

/** A scratch project whose packages are this repository's (openai, cohere-ai, …). */
export function withRepoPackages(dir: string): string {
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}

export interface Started {
  /** Everything it printed so far. */
  log(): string;
  /** SIGINT to its process group (npm and the server under it), SIGKILL after 10 s. */
  stop(): Promise<void>;
}

/**
 * Start a block that keeps running (a server) in a process group of its own; resolves once its
 * output matches `ready`, rejects with the output when it exits first or takes over `timeoutMs`.
 */
export async function startSh(
  code: string,
  ready: RegExp,
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Started> {
  const p = spawn("bash", ["-c", `set -euo pipefail\n${code}`], {
    cwd: opts.cwd ?? ROOT,
    env: shellEnv(opts.env),
    detached: true,
  });
  let log = "";
  const handle: Started = { log: () => log, stop: () => stopGroup(p) };
  await new Promise<void>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      void stopGroup(p).then(() => reject(new Error(`${why}:\n${code}\n--- output\n${log}`)));
    };
    const timer = setTimeout(() => fail("not ready in time"), opts.timeoutMs ?? 60_000);
    const onData = (c: Buffer) => {
      log += c.toString();
      if (ready.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    p.stdout.on("data", onData);
    p.stderr.on("data", onData);
    p.once("exit", (status) => fail(`exited ${status} before it was ready`));
  });
  return handle;
}

/** The address a server's `listening` log line gives (its port, on 127.0.0.1). */
export function listeningPort(log: string): number {
  const m = /"url":"http:\/\/[^"]*:(\d+)"[^\n]*"msg":"listening"/.exec(log);
  if (!m) throw new Error(`no listening line in:\n${log}`);
  return Number(m[1]);
}

/** A block's commands: continuation lines joined, comments and blank lines dropped. */
export function commands(code: string): string[] {
  return code
    .replace(/\\\n\s*/g, "")
    .split("\n")
    .map((l) => l.replace(/(^|\s+)#\s.*$/, "").trim())
    .filter((l) => l && !l.startsWith("#"));
}

/** Replace each placeholder (`path/to/x`, a port) by what the test stands in with. */
export function substitute(code: string, values: Record<string, string>): string {
  let out = code;
  for (const [from, to] of Object.entries(values)) {
    if (!out.includes(from)) throw new Error(`"${from}" is not in:\n${code}`);
    out = out.replaceAll(from, to);
  }
  return out;
}

/**
 * Start a `serve` command of a block on a free port of 127.0.0.1 (its own `--port`, if any, is
 * overridden: the last flag wins); resolves once the model is ready, with its URL.
 */
export async function startServe(
  command: string,
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Started & { url: string }> {
  if (!/\bedgepool serve\b/.test(command)) throw new Error(`not a serve command: ${command}`);
  const s = await startSh(`${command} --host 127.0.0.1 --port 0`, /"msg":"model ready"/, opts);
  return { ...s, url: `http://127.0.0.1:${listeningPort(s.log())}` };
}

export async function postJson(url: string, body: unknown) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The JSON value that starts at `start` in text where others follow it (curl adds no newline). */
export function jsonAt(text: string, start = 0): unknown {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if ((c === "}" || c === "]") && --depth === 0) return JSON.parse(text.slice(start, i + 1));
  }
  throw new Error(`no JSON value at ${start} in:\n${text}`);
}

export interface HubScratch {
  /** A scratch folder, removed after the enclosing describe. */
  dir: string;
  hub(): HubStandIn;
  /** HF_ENDPOINT at the stand-in, and a model cache of its own in the scratch folder. */
  env(cache?: string): NodeJS.ProcessEnv;
}

/**
 * For the enclosing describe: a scratch folder and a local Hub stand-in serving fixtures under
 * the ids a block names (HF_ENDPOINT), so that the block runs as written, offline.
 */
export function hubScratch(prefix: string, models: Record<string, string>): HubScratch {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let hub: HubStandIn | undefined;
  beforeAll(async () => {
    hub = await hubStandIn(models);
  });
  afterAll(async () => {
    await hub?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    hub: () => hub!,
    env: (cache = "cache") => ({
      HF_ENDPOINT: hub!.endpoint,
      EDGEPOOL_CACHE_DIR: join(dir, cache),
    }),
  };
}
