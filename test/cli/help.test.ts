import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { fixture } from "../helpers/fixtures.js";
import { freePort, S3_ENV, type S3Server, startS3 } from "../helpers/s3.js";
import { ROOT, startServer } from "../helpers/server.js";

const COMMANDS = ["serve", "embed", "pin", "verify", "quantize", "keys", "usage"];
const helps: Record<string, string> = {};
let general = "";

beforeAll(async () => {
  general = (await runCli(["--help"])).stdout;
  await Promise.all(
    COMMANDS.map(async (c) => {
      const r = await runCli([c, "--help"]);
      expect(r.code).toBe(0);
      helps[c] = r.stdout;
    }),
  );
});

/** A help's flags: each `--name` that starts a line, with whether it shows a value. */
function flagsOf(help: string): { name: string; takesValue: boolean }[] {
  return [...help.matchAll(/^ {2}--([a-z0-9-]+)( \S+)?/gm)].map((m) => ({
    name: m[1]!,
    takesValue: m[2] !== undefined,
  }));
}

/** Each flag's lines: its own, and the description's continuation lines. */
function flagBlocks(help: string): Map<string, string> {
  const blocks = new Map<string, string>();
  let current: string | null = null;
  for (const line of help.split("\n")) {
    const flag = /^ {2}--([a-z0-9-]+)/.exec(line);
    if (flag) {
      current = flag[1]!;
      blocks.set(current, line);
    } else if (current && /^ {28}\S/.test(line))
      blocks.set(current, `${blocks.get(current)} ${line}`);
    else current = null;
  }
  return blocks;
}

describe("edgepool --version and help", () => {
  it("--version prints package.json's version", async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    for (const flag of ["--version", "-v"]) {
      const r = await runCli([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${version}\n`);
    }
  });

  it("edgepool help COMMAND prints that command's help, as COMMAND --help does", async () => {
    expect(general).toContain("Usage: edgepool <command>");
    for (const c of COMMANDS) {
      const r = await runCli(["help", c]);
      expect(r.code).toBe(0);
      expect(r.stdout.startsWith(`Usage: edgepool ${c} `), c).toBe(true);
      expect(r.stdout).toBe(helps[c]);
      expect(general).toContain(`  ${c} `);
    }
  });

  it("fits 80 columns", () => {
    for (const [name, help] of Object.entries({ general, ...helps })) {
      const wide = help.split("\n").filter((l) => [...l].length > 80);
      expect(wide, name).toEqual([]);
    }
  });

  it("serve's: the model's options first, grouped, one default each, and examples", () => {
    const sections = helps.serve!.split("\n").filter((l) => /^[A-Z][^:]*:$/.test(l));
    expect(sections[0]).toBe("Model:");
    expect(sections).toEqual(
      expect.arrayContaining([
        "Server:",
        "Request limits:",
        "Batching and threads:",
        "Metering and keys:",
        "Examples:",
      ]),
    );
    expect(sections.at(-1)).toBe("Examples:");
    const concurrent = flagBlocks(helps.serve!).get("max-concurrent-requests");
    expect(concurrent).toBeDefined();
    expect(concurrent!.match(/default/g)).toHaveLength(1);
    expect(concurrent).toContain("(default 64 per worker thread)");
    for (const [command, help] of Object.entries(helps)) {
      const names = flagsOf(help).map((f) => f.name);
      expect(new Set(names).size, `${command} lists a flag twice`).toBe(names.length);
      for (const [flag, block] of flagBlocks(help)) {
        expect((block.match(/\(default /g) ?? []).length, `${command} --${flag}`).toBeLessThan(2);
      }
    }
  });

  it("each command lists the flags it accepts, and only those", async () => {
    const serveOnly = ["served-model-name", "max-concurrent-requests", "workers", "store", "port"];
    expect(flagsOf(helps.embed!).map((f) => f.name)).not.toEqual(
      expect.arrayContaining([serveOnly[0]]),
    );
    for (const flag of serveOnly) expect(helps.embed).not.toContain(`--${flag} `);
    for (const c of COMMANDS) {
      const flags = flagsOf(helps[c]!);
      expect(flags.length, c).toBeGreaterThan(1);
      // Every listed flag at once: the parser knows each (values are checked later, if at all).
      const args = flags.flatMap((f) => (f.takesValue ? [`--${f.name}`, "x"] : [`--${f.name}`]));
      const r = await runCli([c, ...args, "--listed-nowhere"], { EDGEPOOL_STORE: "" });
      expect(r.stderr.trim(), c).toBe(`edgepool ${c}: Unknown option --listed-nowhere`);
    }
    for (const flag of serveOnly) {
      const r = await runCli([
        "embed",
        `--${flag}`,
        "1",
        "--model",
        fixture("bert-embed-mean"),
        "t",
      ]);
      expect(r.stderr.trim()).toMatch(new RegExp(`^edgepool embed: Unknown option --${flag}\\b`));
    }
  });
});

/** `a "b c" d` → ["a", "b c", "d"]. */
const words = (line: string) => [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);

describe("the examples in each command's help run", () => {
  let work: string;
  let s3: S3Server;
  /** The examples' placeholders, as local folders, files and services. */
  let places: Record<string, string>;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "edgepool-help-examples-"));
    s3 = await startS3(join(work, "s3"), await freePort(), "my-bucket");
    places = {
      "./bge-small-en-v1.5": fixture("xlmr-embed"),
      "BAAI/bge-small-en-v1.5": fixture("xlmr-embed"),
      "./embed": fixture("bert-embed-mean"),
      "./rerank": fixture("bert-cross-encoder"),
      "./bge-small-q8": join(work, "bge-small-q8"),
      "sqlite:edgepool.db": `sqlite:${join(work, "edgepool.db")}`,
    };
  });
  afterAll(async () => {
    await s3?.kill();
    rmSync(work, { recursive: true, force: true });
  });

  const examples = (command: string) =>
    helps[command]!.slice(helps[command]!.indexOf("\nExamples:\n"))
      .split("\n")
      .filter((l) => l.startsWith("  edgepool "))
      .map((l) => words(l.trim()).map((w) => places[w] ?? w));

  it("embed, quantize, keys, usage and pin", async () => {
    const env = {
      ...S3_ENV,
      AWS_ENDPOINT_URL: s3.endpoint,
      EDGEPOOL_STORE: places["sqlite:edgepool.db"]!,
      EDGEPOOL_CACHE_DIR: join(work, "cache"),
      HF_ENDPOINT: "http://127.0.0.1:9",
    };
    const ran: string[] = [];
    for (const command of ["embed", "quantize", "keys", "usage", "pin"]) {
      for (const [bin, name, ...args] of examples(command)) {
        expect(bin).toBe("edgepool");
        if (name === "serve") continue; // quantize's second line: served below
        const r = await runCli([name!, ...args], env, 60_000);
        expect(r.stderr, `${name} ${args.join(" ")}`).not.toMatch(/Unknown option|needs a value/);
        expect(r.code, `${name} ${args.join(" ")}: ${r.stderr}`).toBe(0);
        ran.push(name!);
        if (name === "embed")
          expect((JSON.parse(r.stdout) as number[][])[0]!.length).toBe(
            args.includes("--dimensions") ? 8 : 32,
          );
        if (name === "pin") expect(r.stdout).toMatch(/^s3:\/\/my-bucket\/models\/xlmr-embed\//);
      }
    }
    expect(ran).toEqual(["embed", "embed", "quantize", "keys", "keys", "usage", "usage", "pin"]);
  }, 180_000);

  it("serve's and quantize's serve line", async () => {
    const lines = [...examples("serve"), ...examples("quantize").filter((w) => w[1] === "serve")];
    expect(lines).toHaveLength(5);
    for (const [, , ...given] of lines) {
      // startServer picks the port.
      const at = given.indexOf("--port");
      const args = at === -1 ? given : [...given.slice(0, at), ...given.slice(at + 2)];
      const server = await startServer(args, { EDGEPOOL_STORE: "", DATABASE_URL: "" });
      const ready = server.logs.some((l) => l.includes('"model ready"'));
      expect(await server.stop()).toBe(0);
      expect(ready, args.join(" ")).toBe(true);
    }
  }, 180_000);
});

describe("the package's bin", () => {
  it("is built executable, so `npx edgepool` runs it in this repository before any install", () => {
    const main = join(ROOT, "dist", "cli", "main.js");
    expect(readFileSync(main, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    expect(statSync(main).mode & 0o111).toBe(0o111);
  });
});
