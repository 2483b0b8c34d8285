import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import { DockerfileParser, type Instruction } from "dockerfile-ast";
import { ROOT } from "../helpers/server.js";

/**
 * A Docker build rehearsed without a Docker engine: each stage is a folder standing for its
 * filesystem; COPY copies exactly the files the instruction names (from the build context, with
 * .dockerignore applied, or from an earlier stage's folder); RUN runs its command with `sh -c` in
 * the stage's WORKDIR, with the stage's ENV and ARG values. A RUN that needs the base image's
 * system (apt-get, useradd, system paths) or the internet beyond the npm registry is not run: it
 * must match one of SKIPPED, which says why; any other RUN is run. Identical steps over identical
 * inputs are run once (Docker's layer cache; hard-linked copies).
 */
export const SKIPPED: ReadonlyArray<{ pattern: RegExp; why: string }> = [
  { pattern: /^apt-get update/, why: "system packages of the base image (apt-get, as root)" },
  { pattern: /^useradd /, why: "a system user of the base image (useradd, as root)" },
  { pattern: /^mkdir -p \/cache && chown/, why: "the image's /cache, a system path (as root)" },
  {
    pattern: /^set -eu;\s+pkg=[\s\S]*curl [\s\S]*api\.nuget\.org[\s\S]*sha256sum -c -/,
    why: "a download from api.nuget.org (not reachable here), checked with sha256sum -c",
  },
];

export interface StageRun {
  name: string;
  /** The layer key so far (its image, then each step and its inputs). */
  key: string;
  /** The folder standing for the stage's filesystem root. */
  root: string;
  workdir: string;
  /** RUN commands run, and those skipped with why. */
  ran: string[];
  skipped: Array<{ command: string; why: string }>;
  /** Files taken from a base image's filesystem (not rehearsed): `stage:path`. */
  fromBaseImage: string[];
}

export interface RehearsalOptions {
  /** Where the stages' folders go. */
  scratch: string;
  buildArgs?: Record<string, string>;
  /** TARGETARCH (buildx sets it from --platform). */
  arch?: string;
  /** Extra environment for RUN steps (npm's cache preference, PATH). */
  env?: NodeJS.ProcessEnv;
  /** Layer cache shared between builds: step key → folder. */
  cache?: Map<string, string>;
  /** A RUN that should fail, with what it must print (e.g. a missing build argument). */
  expectFailure?: { pattern: RegExp; output: RegExp };
}

/** .dockerignore's patterns (top-level names and simple globs, as this repository uses them). */
function ignored(): string[] {
  const path = join(ROOT, ".dockerignore");
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
}

function isIgnored(rel: string, patterns: string[]): boolean {
  return patterns.some((p) => rel === p || rel.startsWith(`${p}/`));
}

const hash = (s: string) => createHash("sha256").update(s).digest("hex");

function contentHash(path: string): string {
  const s = statSync(path);
  if (!s.isDirectory()) return hash(readFileSync(path).toString("base64"));
  return hash(
    execFileSync("bash", ["-c", "find . -type f -print0 | sort -z | xargs -0 sha256sum"], {
      cwd: path,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    }),
  );
}

function expand(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{(\w+)(:-[^}]*)?\}|\$(\w+)/g, (m, a: string, def: string, b: string) => {
    const v = vars[a ?? b];
    if (v !== undefined && v !== "") return v;
    return def ? def.slice(2) : m.startsWith("${") ? "" : m;
  });
}

/** Rehearse `dockerfile` (a path under the repository); returns every stage, the last one last. */
export function rehearseDockerfile(dockerfile: string, opts: RehearsalOptions): StageRun[] {
  const file = DockerfileParser.parse(readFileSync(join(ROOT, dockerfile), "utf8"));
  const ignore = ignored();
  const globals: Record<string, string> = {};
  for (const a of file.getInitialARGs()) {
    const p = a.getProperty()!;
    globals[p.getName()] = opts.buildArgs?.[p.getName()] ?? p.getValue() ?? "";
  }
  const stages: StageRun[] = [];
  const cache = opts.cache ?? new Map<string, string>();
  let stage: StageRun | null = null;
  let vars: Record<string, string> = {};
  let key = "";
  const stageDir = () => join(stage!.root, stage!.workdir);
  const snapshot = () => {
    const cached = cache.get(key);
    if (cached) {
      execFileSync("rm", ["-rf", stage!.root]);
      execFileSync("cp", ["-al", cached, stage!.root]);
      return true;
    }
    return false;
  };
  const remember = () => {
    const dir = join(opts.scratch, `layer-${key.slice(0, 16)}`);
    if (!existsSync(dir)) execFileSync("cp", ["-al", stage!.root, dir]);
    cache.set(key, dir);
  };

  for (const ins of file.getInstructions() as Instruction[]) {
    if (stage) stage.key = key;
    const kw = ins.getKeyword();
    if (kw === "FROM") {
      const from = ins as unknown as { getBuildStage(): string | null; getImage(): string | null };
      const name = from.getBuildStage() ?? `stage-${stages.length}`;
      const base = expand(from.getImage() ?? "", globals);
      const parent = stages.find((s) => s.name === base);
      stage = {
        key,
        name,
        root: join(opts.scratch, `${stages.length}-${name}`),
        workdir: parent?.workdir ?? "/",
        ran: [],
        skipped: [],
        fromBaseImage: [],
      };
      mkdirSync(stage.root, { recursive: true });
      if (parent) execFileSync("cp", ["-al", `${parent.root}/.`, stage.root]);
      vars = { TARGETARCH: opts.arch ?? "amd64" };
      // A stage's layers start from its image (through the stages it is built on).
      if (stages.at(-1)) stages.at(-1)!.key = key;
      key = parent ? parent.key : hash(base);
      stages.push(stage);
      continue;
    }
    if (!stage) continue;
    if (kw === "ARG") {
      const p = (
        ins as unknown as { getProperty(): { getName(): string; getValue(): string | null } }
      ).getProperty();
      const name = p.getName();
      // TARGETARCH is buildx's (from --platform), over any default the file gives.
      vars[name] =
        name === "TARGETARCH"
          ? (vars[name] ?? "amd64")
          : (opts.buildArgs?.[name] ?? globals[name] ?? p.getValue() ?? vars[name] ?? "");
    } else if (kw === "ENV") {
      const props = (
        ins as unknown as {
          getProperties(): Array<{ getName(): string; getValue(): string | null }>;
        }
      ).getProperties();
      for (const p of props) vars[p.getName()] = expand(p.getValue() ?? "", vars);
      key = hash(`${key}\nENV ${ins.getArgumentsContent()}`);
    } else if (kw === "WORKDIR") {
      stage.workdir = posix.resolve(stage.workdir, ins.getArgumentsContent() ?? "/");
      mkdirSync(stageDir(), { recursive: true });
    } else if (kw === "COPY") {
      const copy = ins as unknown as {
        getFlags(): Array<{ getName(): string; getValue(): string | null }>;
        getArguments(): Array<{ getValue(): string }>;
      };
      const fromStage =
        copy
          .getFlags()
          .find((f) => f.getName() === "from")
          ?.getValue() ?? null;
      const args = copy.getArguments().map((a) => expand(a.getValue(), vars));
      const dest = posix.resolve(stage.workdir, args.at(-1)!);
      const sources = args.slice(0, -1);
      const src = fromStage ? stages.find((s) => s.name === fromStage) : null;
      if (fromStage && !src)
        throw new Error(`${dockerfile}: COPY --from=${fromStage}: no such stage`);
      for (const s of sources) {
        // Outside the stage's WORKDIR, a path is the base image's (node's binary): not rehearsed.
        if (src && !posix.resolve(src.workdir, s).startsWith(`${src.workdir}/`)) {
          stage.fromBaseImage.push(`${fromStage}:${s}`);
          continue;
        }
        const from = src ? join(src.root, s) : join(ROOT, s);
        if (!src && isIgnored(s.replace(/^\.\//, ""), ignore)) {
          throw new Error(`${dockerfile}: COPY ${s}: excluded by .dockerignore`);
        }
        if (!existsSync(from)) {
          throw new Error(
            `${dockerfile}: COPY ${s}: not in the ${src ? `stage ${fromStage}` : "build context"}`,
          );
        }
        const to = dest.endsWith("/") || sources.length > 1 ? join(dest, posix.basename(s)) : dest;
        mkdirSync(join(stage.root, posix.dirname(to)), { recursive: true });
        if (src) {
          // From an earlier stage: its folder as it is (hard links), keyed by that stage's layers.
          execFileSync("cp", ["-al", from, join(stage.root, to)]);
          key = hash(`${key}\nCOPY --from=${src.key} ${s} ${to}`);
        } else {
          cpSync(from, join(stage.root, to), {
            recursive: true,
            filter: (p) => !isIgnored(p.slice(ROOT.length + 1), ignore),
          });
          key = hash(`${key}\nCOPY ${s} ${to} ${contentHash(from)}`);
        }
      }
    } else if (kw === "RUN") {
      const command = (ins.getArgumentsContent() ?? "").trim();
      const skip = SKIPPED.find((s) => s.pattern.test(command));
      if (skip) {
        stage.skipped.push({ command, why: skip.why });
        continue;
      }
      // The values the command names (ENV values are in the key already).
      const named = Object.entries(vars).filter(([k]) =>
        new RegExp(`\\$\\{?${k}\\b`).test(command),
      );
      key = hash(`${key}\nRUN ${command}\n${JSON.stringify(named)}`);
      stage.ran.push(command);
      if (snapshot()) continue;
      const res = spawnSync("sh", ["-c", command], {
        cwd: stageDir(),
        env: { ...process.env, ...opts.env, ...vars },
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
      });
      if (res.status !== 0) {
        const out = `${res.stdout}${res.stderr}`;
        if (opts.expectFailure?.pattern.test(command)) {
          if (!opts.expectFailure.output.test(out)) {
            throw new Error(`${dockerfile}: RUN failed differently than expected:\n${out}`);
          }
          return stages;
        }
        throw new Error(
          `${dockerfile}: RUN ${command.slice(0, 80)}… exited ${res.status}:\n${out}`,
        );
      }
      remember();
    }
  }
  return stages;
}
