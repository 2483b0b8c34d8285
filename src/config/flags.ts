import type { JsonObject } from "../core/index.js";
import { isJsonObject } from "../core/index.js";
import { UsageError } from "./usage-error.js";

/**
 * One flag, defined once: `node:util`'s `parseArgs` reads `type` and `multiple`, the commands'
 * help is written from `value`, `help` and `shown`, and the functions read the same flags from
 * `EDGEPOOL_<FLAG>` variables.
 */
export interface FlagSpec {
  readonly type: "string" | "boolean";
  readonly multiple?: boolean;
  /** The value as help shows it: N, DIR, on|off (none for a boolean flag). */
  readonly value?: string;
  /** What the flag does, as one paragraph (help wraps it). */
  readonly help: string;
  /** The default as help shows it (not `default`: parseArgs would fill it in). */
  readonly shown?: string | number;
}

export type FlagTable = Readonly<Record<string, FlagSpec>>;

/** The values `parseArgs` gives for a table's flags. */
export type FlagValues<T extends FlagTable> = {
  [K in keyof T]?: T[K]["type"] extends "boolean"
    ? boolean
    : T[K]["multiple"] extends true
      ? string[]
      : string;
};

export function intFlag(flag: string, text: string | undefined, min = 1): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${flag} must be an integer ≥ ${min}`);
  return n;
}

export function oneOf<T extends string>(
  flag: string,
  text: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (text === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(text)) {
    throw new UsageError(`--${flag} must be one of ${allowed.join(", ")}`);
  }
  return text as T;
}

export function jsonFlag(flag: string, text: string | undefined): JsonObject | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--${flag} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isJsonObject(value)) throw new UsageError(`--${flag} must be a JSON object`);
  return value;
}

/** Some flags of a table, for a command that takes only those. */
export function pickFlags<T extends FlagTable, K extends keyof T & string>(
  table: T,
  ...names: K[]
): Pick<T, K> {
  return Object.fromEntries(names.map((n) => [n, table[n]])) as Pick<T, K>;
}
