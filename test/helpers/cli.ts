import { spawn } from "node:child_process";
import { BIN, ROOT } from "./server.js";

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
}

/** Run the built `edgepool` CLI to completion (killed after `timeoutMs`). */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 30_000,
  cwd = ROOT,
): Promise<CliResult> {
  return runNode([BIN, ...args], env, timeoutMs, cwd);
}

/** Run `node ARGS` (this Node) from `cwd` to completion (killed after `timeoutMs`). */
export function runNode(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 30_000,
  cwd = ROOT,
): Promise<CliResult> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    proc.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
    proc.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, pid: proc.pid ?? -1 });
    });
  });
}

/** Run the built `edgepool` CLI; resolves with its exit code and output (never rejects on exit code). */
export async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = await runCli(args, env);
  return { code: r.code ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** `edgepool keys create --json …`: the new key's record, secret included. */
export async function createKey(spec: string, name: string, extra: string[] = []) {
  const r = await cli(["keys", "create", "--store", spec, "--name", name, "--json", ...extra]);
  if (r.code !== 0) throw new Error(`keys create failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { id: string; key: string; name: string };
}

/**
 * Run a server's command line (`argv[0]` the program) until it logs `model ready`, then send one
 * SIGTERM (a second would end it before it drains): its exit code and output.
 */
export function runUntilReady(
  argv: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult & { ready: boolean }> {
  return new Promise((resolve) => {
    const proc = spawn(argv[0]!, argv.slice(1), {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let ready = false;
    proc.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    proc.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
      if (!ready && stdout.includes('"msg":"model ready"')) ready = proc.kill("SIGTERM");
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
    proc.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, pid: proc.pid ?? -1, ready });
    });
  });
}
