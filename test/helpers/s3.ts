import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";

export const S3_ENV = {
  AWS_ACCESS_KEY_ID: "S3RVER",
  AWS_SECRET_ACCESS_KEY: "S3RVER",
  AWS_REGION: "us-east-1",
};

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface S3Server {
  endpoint: string;
  proc: ChildProcess;
  kill(): Promise<void>;
}

/** Start s3rver over `dir` on `port` with `bucket`, in a child process. */
export async function startS3(dir: string, port: number, bucket: string): Promise<S3Server> {
  const proc = spawn(
    process.execPath,
    [join(import.meta.dirname, "s3-server.mjs"), dir, String(port), bucket],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on("data", (c: Buffer) => {
      if (c.toString().includes("ready")) resolve();
    });
    proc.once("exit", (code) => reject(new Error(`s3rver exited with ${code}`)));
  });
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    proc,
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await exited;
    },
  };
}
