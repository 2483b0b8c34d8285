import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..", "..");
const SRC = join(ROOT, "src");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [path] : [];
  });
}

const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\s(?:[^"';]*?\sfrom\s*)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

/** Every relative import of a file, as a path under src/ (`engine/engine.ts`). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(SPECIFIER)]
    .map((m) => m[1] ?? m[2]!)
    .filter((s) => s.startsWith("."))
    .map((s) => relative(SRC, resolve(dirname(file), s)).replace(/\.js$/, ".ts"));
}

const FILES = sources(SRC).map((f) => ({ file: relative(SRC, f), imports: importsOf(f) }));

/** `from/…` files importing `to/…`, as "file -> import" lines. */
function arrows(from: (file: string) => boolean, to: (imported: string) => boolean): string[] {
  return FILES.filter((f) => from(f.file)).flatMap((f) =>
    f.imports.filter(to).map((i) => `${f.file} -> ${i}`),
  );
}

const under =
  (...dirs: string[]) =>
  (path: string) =>
    dirs.some((d) => path.startsWith(`${d}/`));

describe("layers (docs/architecture.md): arrows point down only", () => {
  it("finds the imports it checks", () => {
    expect(FILES.length).toBeGreaterThan(100);
    expect(arrows(under("cli"), under("config"))).not.toEqual([]);
  });

  it("lambda/ and edge/ never import cli/ (configuration is read from config/)", () => {
    expect(arrows(under("lambda", "edge"), under("cli"))).toEqual([]);
  });

  it("nothing below the runtimes imports cli/, lambda/ or edge/", () => {
    const runtime = under("cli", "lambda", "edge");
    expect(arrows((f) => !runtime(f), runtime)).toEqual([]);
  });

  it("engine/ never imports api/; core/ imports nothing of ours outside core/", () => {
    expect(arrows(under("engine"), under("api"))).toEqual([]);
    expect(arrows(under("core"), (i) => !under("core")(i))).toEqual([]);
  });
});

describe("small files, one job each (docs/architecture.md)", () => {
  const texts = sources(SRC).map((f) => ({
    file: relative(SRC, f),
    text: readFileSync(f, "utf8"),
  }));
  const lines = (text: string) => text.split("\n").length - (text.endsWith("\n") ? 1 : 0);

  it("no file in src/ over 350 lines; the engine's facade at most 250", () => {
    expect(texts.filter((t) => lines(t.text) > 350).map((t) => t.file)).toEqual([]);
    expect(lines(texts.find((t) => t.file === "engine/engine.ts")!.text)).toBeLessThanOrEqual(250);
  });

  it("no function over 80 lines", () => {
    const long: string[] = [];
    for (const { file, text } of texts) {
      const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
      const visit = (node: ts.Node) => {
        if (ts.isFunctionLike(node) && "body" in node && node.body) {
          const from = sf.getLineAndCharacterOfPosition(node.getStart()).line;
          const to = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
          if (to - from + 1 > 80) long.push(`${file}:${from + 1} (${to - from + 1} lines)`);
        }
        ts.forEachChild(node, visit);
      };
      visit(sf);
    }
    expect(long).toEqual([]);
  });
});
