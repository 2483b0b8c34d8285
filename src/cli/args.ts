import { parseArgs } from "node:util";
// fastest-levenshtein: the edit distance behind "did you mean", instead of one more hand-written.
import { closest, distance } from "fastest-levenshtein";
import type { FlagTable, FlagValues } from "../config/flags.js";
import { UsageError } from "../config/usage-error.js";

/** `Unknown option --prot (did you mean --port?)`: the nearest flag, when one is near. */
export function unknownOption(given: string, flags: Readonly<Record<string, unknown>>): UsageError {
  const names = [...Object.keys(flags).map((f) => `--${f}`), "--help"];
  const near = given.startsWith("--") ? closest(given, names) : undefined;
  const close = near !== undefined && distance(given, near) <= Math.max(2, given.length / 4);
  return new UsageError(`Unknown option ${given}${close ? ` (did you mean ${near}?)` : ""}`);
}

export interface CommandLine<T extends FlagTable> {
  values: FlagValues<T>;
  positionals: string[];
}

/**
 * A command line read against the command's flag table (Node's `parseArgs`, strict): an unknown
 * flag names the nearest known one, and every other mistake is one line (exit 2).
 */
export function parseCommandLine<T extends FlagTable>(
  argv: readonly string[],
  flags: T,
  opts: { positionals?: boolean } = {},
): CommandLine<T> {
  try {
    return parseArgs({
      args: [...argv],
      options: flags,
      allowPositionals: opts.positionals ?? false,
      strict: true,
    }) as CommandLine<T>;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== "string" || !code.startsWith("ERR_PARSE_ARGS")) throw err;
    const message = (err as Error).message;
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      throw unknownOption(/'([^']+)'/.exec(message)?.[1] ?? message, flags);
    }
    const missing = /^Option '(-[-\w]+) <value>' argument missing/.exec(message);
    throw new UsageError(missing ? `${missing[1]} needs a value` : message);
  }
}
