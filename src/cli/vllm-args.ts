import { UsageError } from "../config/usage-error.js";
import { unknownOption } from "./args.js";

/** What `--task` (vLLM's old flag) becomes: flags, and the note said about it. */
const TASKS: Readonly<Record<string, string[]>> = {
  auto: [],
  embed: ["--convert", "embed"],
  embedding: ["--convert", "embed"],
  classify: ["--convert", "classify"],
  score: ["--convert", "classify"],
  // Reward models resolve from the architecture and graph (token_classify with a reward head).
  reward: ["--runner", "pooling"],
};

/** Flags vLLM users paste that edgepool accepts as no-ops, with why. */
const NO_OPS: Readonly<Record<string, string>> = {
  "--trust-remote-code":
    "--trust-remote-code is accepted and has no effect: edgepool runs the ONNX graph and never executes model code",
};

/** Old flag names, mapped to the current ones. */
const RENAMED: Readonly<Record<string, string>> = {
  "--override-pooler-config": "--pooler-config",
};

export interface VllmArgs {
  argv: string[];
  /** Warnings to show once the logger is up. */
  notes: string[];
}

/**
 * Rewrite a command line as vLLM users write it into edgepool's: `--flag_name` → `--flag-name`,
 * old names (`--override-pooler-config`, `--task`) to new ones with a note, no-op flags dropped
 * with a note, and `serve MODEL` (positional) → `--model MODEL`. An unknown flag is refused at
 * once, naming the nearest known one.
 */
export function fromVllmArgs(
  argv: readonly string[],
  opts: {
    /** `serve MODEL`: the one positional argument is the model. */
    positionalModel: boolean;
    /** The command's options, to tell a flag's value from a positional argument. */
    options: Readonly<Record<string, { type: "string" | "boolean" }>>;
  },
): VllmArgs {
  const out: string[] = [];
  const notes: string[] = [];
  let positionalModel: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    if (arg === "--") {
      out.push(...argv.slice(i));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      if (opts.positionalModel && positionalModel === null) positionalModel = arg;
      else out.push(arg);
      continue;
    }
    // No command has short options: its value must not be taken for the model (`-p 9000`).
    if (!arg.startsWith("--")) throw unknownOption(arg, opts.options);
    const eq = arg.indexOf("=");
    const name = (eq === -1 ? arg : arg.slice(0, eq)).replaceAll("_", "-");
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    arg = inline === undefined ? name : `${name}=${inline}`;
    if (Object.hasOwn(NO_OPS, name)) {
      notes.push(NO_OPS[name]!);
      if (inline === undefined && (argv[i + 1] === "true" || argv[i + 1] === "false")) i++;
      continue;
    }
    if (Object.hasOwn(RENAMED, name)) {
      const to = RENAMED[name]!;
      notes.push(`${name} is deprecated: use ${to}`);
      out.push(inline === undefined ? to : `${to}=${inline}`);
      if (inline === undefined && i + 1 < argv.length) out.push(argv[++i]!);
      continue;
    }
    if (name === "--task") {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError("--task needs a value");
      const mapped = Object.hasOwn(TASKS, value) ? TASKS[value] : undefined;
      if (!mapped) {
        throw new UsageError(
          `--task ${value}: edgepool serves pooling models only (--task ${Object.keys(TASKS).join("|")}; prefer --convert embed|classify)`,
        );
      }
      notes.push(
        `--task is deprecated (as in vLLM): --task ${value} is read as ${mapped.join(" ") || "automatic detection"}`,
      );
      out.push(...mapped);
      continue;
    }
    // Before its value could be taken for the positional model (`--prot 9000`).
    if (!Object.hasOwn(opts.options, name.slice(2))) throw unknownOption(name, opts.options);
    out.push(arg);
    const option = opts.options[name.slice(2)];
    if (inline === undefined && option?.type === "string" && i + 1 < argv.length) {
      out.push(argv[++i]!);
    }
  }
  if (positionalModel !== null) {
    if (out.some((a) => a === "--model" || a.startsWith("--model="))) {
      throw new UsageError(
        `Give the model once: as the first argument ('${positionalModel}') or with --model`,
      );
    }
    out.unshift("--model", positionalModel);
  }
  return { argv: out, notes };
}
