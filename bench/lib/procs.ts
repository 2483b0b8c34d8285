import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";

/**
 * GET a URL's text over a new connection: a pooled keep-alive socket may have been closed by the
 * server while a synchronous load run (wrk) held this process.
 */
export function getText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve(text));
      })
      .on("error", reject);
  });
}

/** A counter or gauge of a server's `/metrics` (one without labels); NaN when it has none. */
export async function metric(base: string, name: string): Promise<number> {
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(await getText(`${base}/metrics`));
  return m ? Number(m[1]) : Number.NaN;
}

/** Peak resident memory of a process (VmHWM), in bytes. */
export function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

export interface Child {
  proc: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/** Spawn a server and wait until `ready(url)` answers true; resolves with the time that took. */
const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
});

async function portInUse(port: number): Promise<boolean> {
  const { createConnection } = await import("node:net");
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export async function spawnServer(
  command: string,
  args: string[],
  port: number,
  ready: (base: string) => Promise<boolean>,
  env: NodeJS.ProcessEnv = {},
): Promise<Child & { startMs: number }> {
  if (await portInUse(port)) {
    throw new Error(`port ${port} is already in use: another server would be measured`);
  }
  const t0 = performance.now();
  const proc = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.add(proc);
  proc.once("exit", () => children.delete(proc));
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (proc.exitCode !== null)
      throw new Error(`${command} ${args.join(" ")} exited with ${proc.exitCode}`);
    if (await ready(url).catch(() => false)) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const startMs = performance.now() - t0;
  return {
    proc,
    url,
    startMs,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once("exit", () => resolve());
        proc.kill("SIGTERM");
      }),
  };
}

export async function timeProcess(
  command: string,
  args: string[],
): Promise<{ ms: number; stdout: string }> {
  const t0 = performance.now();
  const proc = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
  let stdout = "";
  proc.stdout!.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  const code = await new Promise<number | null>((r) => proc.once("exit", r));
  if (code !== 0) throw new Error(`${command} ${args.join(" ")} exited with ${code}`);
  return { ms: performance.now() - t0, stdout };
}

/**
 * CPU time (user + system, ms) of a process's main thread, the one running the event loop
 * (its thread id is the process id): ONNX Runtime's and worker threads are not counted.
 */
export function mainThreadCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 (utime, stime) of proc(5), counted after the command name.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** CPU time (user + system) of a whole process, all its threads, in ms; 0 once it is gone. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** `serve`'s arguments for a bench server: on 127.0.0.1 at `port`, logging only warnings. */
export function serveArgs(port: number, ...flags: string[]): string[] {
  return ["serve", "--host", "127.0.0.1", "--port", String(port), "--log-level", "warn", ...flags];
}
