import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..");
export const BIN = join(ROOT, "dist", "cli", "main.js");

export interface RunningServer {
  url: string;
  proc: ChildProcess;
  logs: string[];
  /** SIGTERM, then wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
}

/** Start the real `edgepool serve` on 127.0.0.1 (random port) and wait until the model is ready. */
export async function startServer(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<RunningServer> {
  const proc = spawn(
    process.execPath,
    [BIN, "serve", "--host", "127.0.0.1", "--port", "0", ...args],
    {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const logs: string[] = [];
  // "close" comes after the output streams end, so the logs are complete by then.
  const exited = new Promise<number | null>((resolve) =>
    proc.once("close", (code) => resolve(code)),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let address = "";
    let buffer = "";
    const timer = setTimeout(
      () => reject(new Error(`server did not start:\n${logs.join("\n")}`)),
      30_000,
    );
    proc.stdout!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) {
        logs.push(line);
        try {
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.msg === "listening" && entry.url) address = entry.url;
          if (entry.msg === "model ready") {
            clearTimeout(timer);
            resolve(address);
          }
        } catch {
          // not a log line
        }
      }
    });
    proc.stderr!.on("data", (chunk: Buffer) => logs.push(chunk.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${logs.join("\n")}`));
    });
  });
  return {
    url,
    proc,
    logs,
    async stop() {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      return exited;
    },
  };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field in tests
  return { status: res.status, headers: res.headers, body: json as any };
}

export async function getJson(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field in tests
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}
