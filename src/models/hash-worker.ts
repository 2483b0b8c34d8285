import { Worker } from "node:worker_threads";

/**
 * The worker's code (CommonJS, run with `eval`: a bundle needs no file beside it). It hashes each
 * file through one reused 1 MiB buffer (see manifest.ts) and posts the sha256s in order.
 */
const SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const { closeSync, openSync, readSync } = require("node:fs");
const buf = Buffer.allocUnsafeSlow(1 << 20);
const digests = workerData.paths.map((path) => {
  const hash = createHash("sha256");
  const fd = openSync(path, "r");
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) {
      hash.update(n === buf.length ? buf : buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
});
parentPort.postMessage(digests);
`;

/**
 * sha256 of each file, computed on a worker thread: the calling thread goes on meanwhile (a
 * function builds its tokenizer while its graph is hashed). Rejects if a file cannot be read.
 */
export function sha256FilesInWorker(paths: readonly string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(SOURCE, { eval: true, workerData: { paths } });
    worker.once("message", (digests: string[]) => resolve(digests));
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`the hash worker exited with code ${code}`)));
  });
}
