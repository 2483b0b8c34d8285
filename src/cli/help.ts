import type { FlagSpec, FlagTable } from "../config/flags.js";

/** Help is written for an 80-column terminal. */
export const HELP_WIDTH = 80;
/** Where a flag's description starts. */
const DESCRIPTION_COLUMN = 28;

/** One part of a command's help: a heading with flags from its table, and/or some text. */
export interface HelpSection<T extends FlagTable> {
  title: string;
  flags?: readonly (keyof T & string)[];
  /** A paragraph after the flags (wrapped). */
  text?: string;
}

/** A command: its flags (one table) and the help written from them. */
export interface CommandSpec<T extends FlagTable> {
  /** Usage lines, without "Usage: " (the first gets it, the others are aligned under it). */
  usage: readonly string[];
  /** What the command does: paragraphs, each wrapped. */
  about: readonly string[];
  flags: T;
  /** Every flag of `flags` is in exactly one section. */
  sections: readonly HelpSection<T>[];
  /** Each a command line, after a comment line when `say` is not empty. */
  examples?: readonly { say: string; run: string }[];
}

/** Words of `text` in lines of at most `width` characters (a longer word stands alone). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function flagLines(name: string, spec: FlagSpec): string[] {
  const left = `  --${name}${spec.value ? ` ${spec.value}` : ""}`;
  const shown = spec.shown === undefined ? "" : ` (default ${spec.shown})`;
  const text = wrap(`${spec.help}${shown}`, HELP_WIDTH - DESCRIPTION_COLUMN);
  const pad = " ".repeat(DESCRIPTION_COLUMN);
  if (left.length + 2 > DESCRIPTION_COLUMN) return [left, ...text.map((l) => pad + l)];
  return [left.padEnd(DESCRIPTION_COLUMN) + text[0], ...text.slice(1).map((l) => pad + l)];
}

/**
 * A command's help: usage, what it does, its flags by section (each flag listed once, from its
 * one definition), and examples; at most 80 columns.
 */
export function renderHelp<T extends FlagTable>(spec: CommandSpec<T>): string {
  const listed = spec.sections.flatMap((s) => s.flags ?? []);
  const missing = Object.keys(spec.flags).filter((f) => !listed.includes(f));
  const twice = listed.filter((f, i) => listed.indexOf(f) !== i);
  if (missing.length > 0 || twice.length > 0) {
    throw new Error(`help lists flags once each: missing ${missing}, twice ${twice}`);
  }
  const out = spec.usage.map((u, i) => `${i === 0 ? "Usage: " : "       "}${u}`);
  for (const paragraph of spec.about) out.push("", ...wrap(paragraph, HELP_WIDTH));
  for (const section of spec.sections) {
    out.push("", `${section.title}:`);
    for (const name of section.flags ?? []) out.push(...flagLines(name, spec.flags[name]!));
    if (section.text)
      out.push(
        ...(section.flags ? [""] : []),
        ...wrap(section.text, HELP_WIDTH - 2).map((l) => `  ${l}`),
      );
  }
  if (spec.examples?.length) {
    out.push("", "Examples:");
    for (const { say, run } of spec.examples) out.push(...(say ? [`  # ${say}`] : []), `  ${run}`);
  }
  return out.join("\n");
}
