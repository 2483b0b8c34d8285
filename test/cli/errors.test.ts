import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/index.js";
import { runCli } from "../helpers/cli.js";
import { fixture } from "../helpers/fixtures.js";
import { BIN, startServer } from "../helpers/server.js";

// docs/security.md, docs/cli.md: the CLI reports what it cannot do as one line on stderr, with
// no stack trace, and exits 2 (a mistake in the command line) or 1 (something it needs failed).
const MODEL = fixture("bert-embed-mean");
const NO_STORE = { EDGEPOOL_STORE: "", DATABASE_URL: "" };
const dir = mkdtempSync(join(tmpdir(), "edgepool-cli-errors-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The command's stderr: exactly one line, no stack frame. */
function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
  return lines[0]!;
}

/** A port nothing listens on: bound by the system, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("one-line errors", () => {
  it("embed without a text to embed", async () => {
    const r = await runCli(["embed", "--model", MODEL]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe("edgepool embed: give at least one TEXT to embed");
  });

  it("serve with a Postgres store where nothing listens; the password is not shown", async () => {
    const port = await closedPort();
    const r = await runCli(
      [
        "serve",
        "--model",
        MODEL,
        "--port",
        "0",
        "--store",
        `postgres://me:s3cret@127.0.0.1:${port}/x`,
      ],
      NO_STORE,
    );
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(
      `edgepool serve: cannot open the store postgres://…@127.0.0.1:${port}/x: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    expect(r.stdout).not.toContain('"listening"');
  });

  it("serve with a SQLite store where no file can be: refused, then not openable", async () => {
    const missing = await runCli(
      ["serve", "--model", MODEL, "--port", "0", "--store", "sqlite:/proc/x.db"],
      NO_STORE,
    );
    expect(missing.code).toBe(2);
    expect(oneLine(missing.stderr)).toBe(
      "edgepool serve: sqlite:/proc/x.db: no such file. Check the path, or add --create to start a new, empty store there",
    );
    const create = await runCli(
      ["serve", "--model", MODEL, "--port", "0", "--store", "sqlite:/proc/x.db", "--create"],
      NO_STORE,
    );
    expect(create.code).toBe(1);
    expect(oneLine(create.stderr)).toBe(
      "edgepool serve: cannot open the store sqlite:/proc/x.db: unable to open database file",
    );
  });

  it.each([
    ["--prot", "9000", "Unknown option --prot (did you mean --port?)"],
    [
      "--max-batch-tokns",
      "100",
      "Unknown option --max-batch-tokns (did you mean --max-batch-tokens?)",
    ],
    [
      "--max_batch_tokns",
      "100",
      "Unknown option --max-batch-tokns (did you mean --max-batch-tokens?)",
    ],
    ["--frobnicate", "1", "Unknown option --frobnicate"],
    ["-p", "9000", "Unknown option -p"],
  ])("serve %s %s: an unknown flag, named (not taken for the model)", async (flag, value, said) => {
    const r = await runCli(["serve", flag, value, "--model", MODEL]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(`edgepool serve: ${said}`);
  });

  it.each([
    [
      ["keys", "list", "--nmae", "x"],
      "edgepool keys: Unknown option --nmae (did you mean --name?)",
    ],
    [
      ["usage", "export", "--fromm", "2026-01-01"],
      "edgepool usage: Unknown option --fromm (did you mean --from?)",
    ],
    [
      ["embed", "--model", MODEL, "--dimension", "8", "x"],
      "edgepool embed: Unknown option --dimension (did you mean --dimensions?)",
    ],
    [
      ["embed", "--model", MODEL, "--served-model-name", "x", "t"],
      "edgepool embed: Unknown option --served-model-name",
    ],
    [
      ["embed", "--model", MODEL, "x", "--dimensions"],
      "edgepool embed: --dimensions needs a value",
    ],
    [
      ["serv"],
      "edgepool: Unknown command 'serv'; the commands: serve, embed, pin, verify, quantize, keys, usage (edgepool --help)",
    ],
    [
      ["keys", "lst"],
      "edgepool keys: keys needs an action: create, list, revoke or rotate (keys --help)",
    ],
    [["usage"], "edgepool usage: usage needs the action 'export' (usage --help)"],
  ])("%j", async (args, said) => {
    const r = await runCli(args, NO_STORE);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(said);
  });
});

describe("a SQLite store that does not exist", () => {
  it("is refused by every command but keys create, and not created", async () => {
    const path = join(dir, "mistyped.db");
    for (const args of [
      ["usage", "export"],
      ["keys", "list"],
      ["keys", "revoke", "acme"],
    ]) {
      const r = await runCli([...args, "--store", `sqlite:${path}`], NO_STORE);
      expect(r.code, args.join(" ")).toBe(2);
      expect(oneLine(r.stderr)).toBe(
        `edgepool ${args[0]}: sqlite:${path}: no such file. Check the path, or start a new store with 'edgepool keys create'`,
      );
      expect(existsSync(path)).toBe(false);
    }
  });

  it("keys create starts it and says so; serve --create says so in its log", async () => {
    const path = join(dir, "new.db");
    const created = await runCli(
      ["keys", "create", "--store", `sqlite:${path}`, "--name", "acme", "--json"],
      NO_STORE,
    );
    expect(created.code).toBe(0);
    expect(oneLine(created.stderr)).toBe(
      `edgepool keys: created a new, empty store at sqlite:${path}`,
    );
    expect(JSON.parse(created.stdout).name).toBe("acme");
    const again = await runCli(["keys", "create", "--store", `sqlite:${path}`, "--name", "b"]);
    expect(again.stderr).toBe("");

    const servePath = join(dir, "serve.db");
    // An unknown flag stops serve before anything opens: no file.
    const typo = await runCli(
      ["serve", "--model", MODEL, "--store", `sqlite:${servePath}`, "--create", "--prot", "0"],
      NO_STORE,
    );
    expect(typo.code).toBe(2);
    expect(existsSync(servePath)).toBe(false);
    const server = await startServer(
      ["--model", MODEL, "--store", `sqlite:${servePath}`, "--create", "--api-key", "k"],
      NO_STORE,
    );
    await server.stop();
    const said = server.logs.filter((l) => l.includes("created a new, empty store"));
    expect(said).toHaveLength(1);
    expect(JSON.parse(said[0]!).msg).toBe(`created a new, empty store at sqlite:${servePath}`);
    expect(existsSync(servePath)).toBe(true);
  });
});

describe("stdout closed early", () => {
  it("usage export | head -2 exits 0, quietly", async () => {
    const path = join(dir, "ledger.db");
    const store = await openStore(`sqlite:${path}`);
    const now = Date.now();
    // Far more than a pipe holds (64 KiB): the export is still writing when head exits.
    const rows = Array.from({ length: 5000 }, (_, i) => ({
      id: `row_${i}`,
      keyId: "key_x",
      route: "/v1/embeddings",
      model: "m",
      inputs: 1,
      promptTokens: 4,
      status: 200,
      durationMs: 3,
      requestId: `req_${i}`,
      createdAt: now - 5000 + i,
    }));
    await store.ledger.append(rows);
    await store.close();
    const r = spawnSync(
      "bash",
      [
        "-c",
        `"${process.execPath}" "${BIN}" usage export --store "sqlite:${path}" 2>"${dir}/err" | head -2; echo "exit=\${PIPESTATUS[0]}"; cat "${dir}/err"`,
      ],
      { encoding: "utf8", env: { ...process.env, ...NO_STORE } },
    );
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^[a-z_]+,/); // the CSV header
    expect(lines[1]).toContain("row_0");
    expect(lines.slice(2)).toEqual(["exit=0"]);
  });
});
