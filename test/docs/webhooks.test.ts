import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { fixture } from "../helpers/fixtures.js";
import { freePort } from "../helpers/s3.js";
import {
  commands,
  docBlock,
  hubScratch,
  jsonAt,
  runSh,
  shellEnv,
  startServe,
  substitute,
  withRepoPackages,
} from "./blocks.js";

// docs/webhooks.md as written: the server, the receiver (a Standard Webhooks verifier), a job
// submitted and polled; the callback goes to the receiver on 127.0.0.1.
describe("docs/webhooks.md: a rerank job delivered to the receiver, signed", () => {
  const ctx = hubScratch("edgepool-webhooks-doc-", {
    "cross-encoder/ms-marco-MiniLM-L6-v2": fixture("bert-cross-encoder"),
  });
  const scratch = ctx.dir;
  beforeAll(() => {
    withRepoPackages(scratch);
  });

  it("runs as written", async () => {
    const serveBlock = substitute(docBlock("docs/webhooks.md", "serve"), {
      "sqlite:./edgepool.db": `sqlite:${join(scratch, "edgepool.db")}`,
    });
    const [exports, serve] = commands(serveBlock);
    const vars = Object.fromEntries(
      exports!
        .replace(/^export /, "")
        .split(" ")
        .map((kv) => kv.split("=") as [string, string]),
    );
    expect(Object.keys(vars)).toEqual(["KEY", "EDGEPOOL_WEBHOOK_SECRET"]);

    const receiverPort = await freePort();
    const receiverFile = join(scratch, "receiver.mts");
    writeFileSync(
      receiverFile,
      substitute(docBlock("docs/webhooks.md", "receiver"), {
        ".listen(3000)": `.listen(${receiverPort}, "127.0.0.1")`,
      }),
    );
    const receiver = spawn(process.execPath, [receiverFile], {
      cwd: scratch,
      env: shellEnv(vars),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let received = "";
    receiver.stdout.on("data", (c: Buffer) => (received += c.toString()));
    receiver.stderr.on("data", (c: Buffer) => (received += c.toString()));

    const server = await startServe(`${serve} --callback-allow-http --callback-allow-private`, {
      env: { ...vars, ...ctx.env() },
    });
    try {
      // The receiver answers (401 to an unsigned request) once it listens.
      await expect
        .poll(
          () =>
            fetch(`http://127.0.0.1:${receiverPort}/`, { method: "POST" }).then(
              (r) => r.status,
              () => 0,
            ),
          { timeout: 30_000 },
        )
        .toBe(401);
      const submit = substitute(docBlock("docs/webhooks.md", "submit"), {
        "localhost:8000": `localhost:${new URL(server.url).port}`,
        "https://hooks.example.com/rerank": `http://127.0.0.1:${receiverPort}/rerank`,
      });
      const r = await runSh(`${submit}\necho\necho "JOB=$JOB"`, { env: vars });
      expect(r.code, r.stderr).toBe(0);
      const jobId = /^JOB=(job_\S+)$/m.exec(r.stdout)?.[1];
      expect(jobId).toBeDefined();
      expect((jsonAt(r.stdout) as { id: string }).id).toBe(jobId);
      // The receiver logs the delivery's webhook-id (the job id), its type and the ranking.
      await expect
        .poll(() => received, { timeout: 30_000 })
        .toContain(`${jobId} rerank.completed [`);
      const poll = commands(submit).at(-1)!;
      expect(poll).toMatch(/^curl -s "localhost:\d+\/v1\/rerank\/jobs\/\$JOB"/);
      const again = await runSh(poll, { env: { ...vars, JOB: jobId! } });
      const job = JSON.parse(again.stdout) as { status: string; attempts: number };
      expect(job.status).toBe("succeeded");
      expect(job.attempts).toBe(1);
    } finally {
      await server.stop();
      receiver.kill("SIGTERM");
    }
  });
});
