import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docBlock } from "../docs/blocks.js";
import { runNode } from "../helpers/cli.js";
import { ROOT } from "../helpers/server.js";

/**
 * `.ci/node.sh` (the README's and `.ci/run`'s Node bootstrap) against a stand-in npm registry on
 * 127.0.0.1 serving a `node@24` package shaped like the real one: its install script makes
 * `bin/node` (here a wrapper around this test's Node). The machine's own `node` is a wrapper that
 * says it is v20.9.0. The real `npm` on PATH installs; nothing is downloaded.
 */
const OLD = "v20.9.0";
let work: string;
let registry: Server;
let registryUrl: string;
let mode: "serve" | "missing" = "serve";
const requests: string[] = [];

/** The `node` package's tarball: `package/` with its package.json and its install script. */
async function nodeTarball(dir: string): Promise<Buffer> {
  const pkg = join(dir, "pkg", "package");
  mkdirSync(pkg, { recursive: true });
  writeFileSync(
    join(pkg, "package.json"),
    JSON.stringify({
      name: "node",
      version: "24.0.0",
      bin: { node: "bin/node" },
      scripts: { preinstall: "node install.js" },
    }),
  );
  const binary = `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} "$@"\n`;
  writeFileSync(
    join(pkg, "install.js"),
    `const fs = require("node:fs");
fs.mkdirSync("bin", { recursive: true });
fs.writeFileSync("bin/node", ${JSON.stringify(binary)}, { mode: 0o755 });
`,
  );
  const tgz = join(dir, "node-24.0.0.tgz");
  const tar = spawn("tar", ["-czf", tgz, "-C", join(dir, "pkg"), "package"]);
  const code = await new Promise((resolve) => tar.once("close", resolve));
  if (code !== 0) throw new Error(`tar exited ${String(code)}`);
  return readFileSync(tgz);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "edgepool-bootstrap-"));
  const tarball = await nodeTarball(work);
  const integrity = `sha512-${createHash("sha512").update(tarball).digest("base64")}`;
  const shasum = createHash("sha1").update(tarball).digest("hex");
  registry = createServer((req, res) => {
    requests.push(req.url ?? "");
    if (mode === "missing" || !req.url?.startsWith("/node")) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":"Not found"}');
    } else if (req.url === "/node") {
      const version = {
        name: "node",
        version: "24.0.0",
        bin: { node: "bin/node" },
        scripts: { preinstall: "node install.js" },
        hasInstallScript: true,
        dist: { tarball: `${registryUrl}/node/-/node-24.0.0.tgz`, integrity, shasum },
      };
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          name: "node",
          "dist-tags": { latest: "24.0.0" },
          versions: { "24.0.0": version },
        }),
      );
    } else {
      res.writeHead(200, { "content-type": "application/octet-stream" }).end(tarball);
    }
  });
  await new Promise<void>((resolve) => registry.listen(0, "127.0.0.1", resolve));
  registryUrl = `http://127.0.0.1:${(registry.address() as AddressInfo).port}`;
  // The machine's node: too old, by its own account.
  mkdirSync(join(work, "old-node"));
  writeFileSync(
    join(work, "old-node", "node"),
    `#!/bin/sh\nif [ "$1" = "--version" ]; then echo ${OLD}; exit 0; fi\nexec ${JSON.stringify(process.execPath)} "$@"\n`,
  );
  chmodSync(join(work, "old-node", "node"), 0o755);
});

afterAll(async () => {
  await new Promise((r) => registry.close(r));
  rmSync(work, { recursive: true, force: true });
});

/** Source `.ci/node.sh` in `shell` from the repository root, then print the node it left on PATH. */
async function bootstrap(opts: { oldNode: boolean; env?: NodeJS.ProcessEnv; shell?: string }) {
  const home = mkdtempSync(join(work, "home-"));
  const dir = join(home, "node24");
  const env: NodeJS.ProcessEnv = {};
  // The outer `npm test`'s settings are not this npm's.
  for (const k of Object.keys(process.env)) if (/^npm_/i.test(k)) env[k] = undefined;
  Object.assign(env, {
    PATH: `${opts.oldNode ? `${join(work, "old-node")}:` : ""}${process.env.PATH}`,
    HOME: home,
    EDGEPOOL_NODE24_DIR: dir,
    npm_config_registry: `${registryUrl}/`,
    npm_config_cache: join(home, "npm-cache"),
    npm_config_fetch_retries: "0",
    npm_config_update_notifier: "false",
    ...opts.env,
  });
  const shell = opts.shell ?? "bash";
  // The README's block (`. .ci/node.sh`, `node --version`), stopping at a failing line.
  const script = `set -e\n${docBlock("README.md", "node24")}\necho "at $(command -v node)"`;
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve) => {
      const proc = spawn(shell, ["-c", script], { cwd: ROOT, env: { ...process.env, ...env } });
      let stdout = "";
      let stderr = "";
      proc.stdout.on("data", (c: Buffer) => {
        stdout += c.toString();
      });
      proc.stderr.on("data", (c: Buffer) => {
        stderr += c.toString();
      });
      proc.once("close", (code) => resolve({ code, stdout, stderr }));
    },
  );
  return { ...r, dir };
}

describe(".ci/node.sh", () => {
  it("leaves a recent enough node alone: no install, PATH unchanged", async () => {
    const before = requests.length;
    mode = "missing"; // an install attempt would fail
    const r = await bootstrap({ oldNode: false });
    mode = "serve";
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${process.version}\nat /`));
    expect(r.stdout).not.toContain(r.dir);
    expect(requests.length).toBe(before);
  });

  it.each(["bash", "sh"])(
    "on an old node, installs node@24 (its install script allowed) and puts it first on PATH (%s)",
    async (shell) => {
      const r = await bootstrap({ oldNode: true, shell });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(
        `${process.version}\nat ${join(r.dir, "node_modules", ".bin", "node")}\n`,
      );
      expect(JSON.parse(readFileSync(join(r.dir, "package.json"), "utf8"))).toEqual({
        private: true,
        allowScripts: { node: true },
      });
    },
  );

  it("fails, saying why, when node@24's install script does not run (npm 12 without allowScripts)", async () => {
    const r = await bootstrap({ oldNode: true, env: { npm_config_ignore_scripts: "true" } });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(
      `Node bootstrap: node@24 in ${r.dir} left no working node binary (was its install script, which fetches it, blocked?): node on PATH is ${OLD}`,
    );
  });

  it("fails, saying why, when npm cannot install node@24", async () => {
    mode = "missing";
    const r = await bootstrap({ oldNode: true }).finally(() => {
      mode = "serve";
    });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/npm error .*404/);
    expect(r.stderr).toContain(
      `Node bootstrap: \`npm install --prefix ${r.dir} node@24\` failed (npm's error is above)`,
    );
  });
});

describe("scripts/check-node.js (`npm test`'s pretest)", () => {
  it("is the first step of `npm test`", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    expect(pkg.scripts.pretest).toBe("node scripts/check-node.js");
  });

  it("passes this Node", async () => {
    const r = await runNode(["scripts/check-node.js"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
  });

  it.each([
    ["v22.12.0", 0],
    ["v23.0.0", 0],
    ["v24.11.1", 0],
    ["v22.11.0", 1],
    ["v20.20.2", 1],
  ])("version %j: exit %i, one line when it fails", async (version, code) => {
    const r = await runNode(["scripts/check-node.js", version]);
    expect(r.code).toBe(code);
    if (code === 0) expect(r.stderr).toBe("");
    else {
      expect(r.stderr.split("\n")).toEqual([
        `edgepool needs Node >=22.12, and this is Node ${version}: put Node 24 first on PATH (\`. .ci/node.sh\` does, see the README's "Set up and test")`,
        "",
      ]);
    }
  });
});
