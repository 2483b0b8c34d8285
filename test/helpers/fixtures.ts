import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "models");

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

export interface GoldenCase {
  name: string;
  method: "embed" | "classify" | "encode" | "reward" | "score" | "sparse";
  prompts?: Array<{ promptTokenIds: number[] }>;
  /** Text prompts, for cases about text handling (instruction prompts). */
  texts?: string[];
  text1?: string;
  text2?: string[];
  options?: Record<string, unknown>;
  load?: Record<string, unknown>;
  expected: unknown[];
}

export interface Golden {
  name: string;
  /** Load options for the whole-fixture checks, when the model needs some to load at all. */
  load?: Record<string, unknown>;
  maxModelLen: number;
  tokenization: Array<{ text: string; ids: number[] }>;
  pairs?: Array<{ text1: string; text2: string; ids: number[]; tokenTypeIds: number[] }>;
  cases: GoldenCase[];
}

export function goldens(): Golden[] {
  return readdirSync(FIXTURES)
    .sort()
    .map((d) => JSON.parse(readFileSync(join(FIXTURES, d, "golden.json"), "utf8")) as Golden);
}

/** Largest absolute difference between two nested number arrays of the same shape. */
export function maxAbsDiff(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return Math.abs(a - b);
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return Number.POSITIVE_INFINITY;
    return a.reduce((m: number, v, i) => Math.max(m, maxAbsDiff(v, b[i])), 0);
  }
  return Number.POSITIVE_INFINITY;
}
