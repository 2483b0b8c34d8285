import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ROOT } from "../helpers/server.js";

/**
 * docs/deploy.md as the rehearsal's script: each ```sh block follows a comment saying whether the
 * rehearsal runs it (`<!-- rehearse: id (what it changes) -->`) or, needing a cloud, what stands
 * in for it (`<!-- cloud: what stands in -->`).
 */
export interface DocBlock {
  kind: "rehearse" | "cloud";
  id: string;
  note: string;
  code: string;
}

export const DEPLOY_MD = join(ROOT, "docs", "deploy.md");

export function docBlocks(path = DEPLOY_MD): Array<DocBlock | { kind: "untagged"; code: string }> {
  const text = readFileSync(path, "utf8");
  const out: Array<DocBlock | { kind: "untagged"; code: string }> = [];
  const fence =
    /(?:<!--\s*(rehearse|cloud):\s*([^\s(]+)?\s*(?:\(([^)]*)\))?([^>]*)-->\s*\n)?```(?:sh|bash)\n([\s\S]*?)```/g;
  for (const m of text.matchAll(fence)) {
    const [, kind, id, paren, rest, code] = m;
    if (!kind) out.push({ kind: "untagged", code: code! });
    else {
      out.push({
        kind: kind as "rehearse" | "cloud",
        id: kind === "cloud" ? (rest ?? "").trim() || (id ?? "") : id!,
        note: (paren ?? rest ?? "").trim(),
        code: code!,
      });
    }
  }
  return out;
}

export function docBlock(id: string): string {
  const b = docBlocks().find((x) => x.kind === "rehearse" && x.id === id) as DocBlock | undefined;
  if (!b) throw new Error(`docs/deploy.md has no block marked <!-- rehearse: ${id} -->`);
  return b.code;
}

/** Names a block assigns (`NAME=…`, `export A=… B=…`): kept for the blocks after it. */
function assigned(code: string): string[] {
  const names = new Set<string>();
  for (const line of code.split("\n")) {
    const l = line.trim();
    const start = l.match(/^([A-Z_][A-Z0-9_]*)=/);
    if (start) names.add(start[1]!);
    if (l.startsWith("export ")) {
      for (const m of l.matchAll(/\b([A-Z_][A-Z0-9_]*)=/g)) names.add(m[1]!);
    }
  }
  return [...names];
}

/**
 * One shell session over several blocks, as a reader pasting them in order: variables a block
 * sets are there for the next (kept in a state file), with the rehearsal's environment (local
 * endpoints, scratch folders) underneath.
 */
export class DocShell {
  private readonly state: string;

  constructor(
    private readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.state = join(dir, "shell-state.sh");
  }

  /** PATH with this Node first, then the repository's node_modules/.bin. */
  private baseEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    const path = [dirname(process.execPath), join(ROOT, "node_modules", ".bin"), process.env.PATH];
    return { ...process.env, ...this.env, ...extra, PATH: path.join(":") };
  }

  private script(code: string): string {
    const keep = assigned(code);
    const save = keep.length
      ? `declare -p ${keep.join(" ")} 2>/dev/null >> ${JSON.stringify(this.state)}`
      : "";
    const restore = existsSync(this.state) ? `source ${JSON.stringify(this.state)}` : "";
    return `set -euo pipefail\ncd ${JSON.stringify(ROOT)}\n${restore}\n${code}\n${save}\n`;
  }

  /** Run code to its end; resolves with its output, rejects on a non-zero exit. */
  run(code: string, extra: NodeJS.ProcessEnv = {}): Promise<{ out: string; err: string }> {
    return new Promise((resolve, reject) => {
      const p = spawn("bash", ["-c", this.script(code)], { env: this.baseEnv(extra) });
      let out = "";
      let err = "";
      p.stdout.on("data", (c: Buffer) => (out += c.toString()));
      p.stderr.on("data", (c: Buffer) => (err += c.toString()));
      p.once("close", (status) => {
        if (status === 0) resolve({ out, err });
        else
          reject(
            new Error(`block exited ${status}:\n${code}\n--- stdout\n${out}\n--- stderr\n${err}`),
          );
      });
    });
  }

  /** Start code that keeps running (a server); resolves once its output matches `ready`. */
  start(code: string, ready: RegExp, extra: NodeJS.ProcessEnv = {}, timeoutMs = 120_000) {
    const p = spawn("bash", ["-c", this.script(code.trim().replace(/&$/, ""))], {
      env: this.baseEnv(extra),
      detached: true,
    });
    let log = "";
    const started = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`not ready in ${timeoutMs} ms:\n${log}`)),
        timeoutMs,
      );
      const onData = (c: Buffer) => {
        log += c.toString();
        if (ready.test(log)) {
          clearTimeout(timer);
          resolve();
        }
      };
      p.stdout!.on("data", onData);
      p.stderr!.on("data", onData);
      p.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`exited ${code} before it was ready:\n${log}`));
      });
    });
    started.catch(() => undefined); // reported where it is awaited
    return { process: p, started, log: () => log, stop: () => stopGroup(p) };
  }

  /** A variable the blocks set so far. */
  async get(name: string): Promise<string> {
    return (await this.run(`printf %s "\${${name}}"`)).out;
  }

  /** Set a variable for the blocks after (a stand-in the rehearsal provides). */
  async set(values: Record<string, string>): Promise<void> {
    const lines = Object.entries(values).map(([k, v]) => `export ${k}=${JSON.stringify(v)}`);
    await this.run(lines.join("\n"));
  }

  get folder(): string {
    return this.dir;
  }
}

/** Stop a process started detached, with its children (SIGINT, then SIGKILL). */
export async function stopGroup(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null || p.pid === undefined) return;
  const exited = new Promise((r) => p.once("exit", r));
  try {
    process.kill(-p.pid, "SIGINT");
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-p.pid!, "SIGKILL");
    } catch {}
  }, 10_000);
  await exited;
  clearTimeout(timer);
}
