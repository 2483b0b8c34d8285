import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
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

/** One golden case's expected outputs, by fixture and case name. */
export function goldenCase(fixtureName: string, caseName: string): GoldenCase {
  const golden = JSON.parse(
    readFileSync(join(FIXTURES, fixtureName, "golden.json"), "utf8"),
  ) as Golden;
  const found = golden.cases.find((c) => c.name === caseName);
  if (!found) throw new Error(`no golden case '${caseName}' in ${fixtureName}`);
  return found;
}

/**
 * A copy of a fixture in a fresh temporary folder, with JSON files edited: `edits` maps a file
 * (relative to the folder) to a function of its parsed content returning the new content, or
 * `null` to delete the file.
 */
export function editedFixture(
  name: string,
  edits: Record<string, ((json: Record<string, unknown>) => unknown) | null>,
): string {
  const dir = mkdtempSync(join(tmpdir(), `edgepool-${name}-`));
  cpSync(fixture(name), dir, { recursive: true });
  for (const [file, edit] of Object.entries(edits)) {
    const path = join(dir, file);
    if (edit === null) rmSync(path);
    else writeFileSync(path, JSON.stringify(edit(JSON.parse(readFileSync(path, "utf8")))));
  }
  return dir;
}

/**
 * A rerank answer's `results` against golden scores (in document order): the same documents in
 * the order the scores rank them (the first `topN`), with the same scores within 1e-4. Returns
 * an error message, or null when they match.
 */
export function rerankMismatch(
  results: ReadonlyArray<{ index: number; relevance_score: number }>,
  scores: readonly number[],
  topN = scores.length,
): string | null {
  const want = scores
    .map((score, index) => ({ index, score }))
    .sort((a, b) => b.score - a.score)
    .slice(0, topN);
  const order = results.map((r) => r.index);
  if (JSON.stringify(order) !== JSON.stringify(want.map((w) => w.index))) {
    return `ranked ${JSON.stringify(order)}, the golden ranks ${JSON.stringify(want.map((w) => w.index))}`;
  }
  const diff = maxAbsDiff(
    results.map((r) => r.relevance_score),
    want.map((w) => w.score),
  );
  return diff < 1e-4 ? null : `scores differ from the golden by ${diff}`;
}
