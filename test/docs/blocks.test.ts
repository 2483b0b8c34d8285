import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/server.js";
import { blocks, taggedFiles } from "./blocks.js";

/** Every test file's text, for the docBlock calls in it. */
function testSources(): string {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory() && e.name !== "fixtures") walk(path);
      else if (e.name.endsWith(".ts")) out.push(readFileSync(path, "utf8"));
    }
  };
  walk(join(ROOT, "test"));
  return out.join("\n");
}

describe("every command and snippet in the README and docs/ is run by a test", () => {
  const files = taggedFiles();
  const all = files.flatMap((f) => blocks(f));
  const taken = new Set(
    [...testSources().matchAll(/docBlock\(\s*"([^"]+)",\s*"([^"]+)"\s*,?\s*\)/g)].map(
      ([, file, id]) => `${file}#${id}`,
    ),
  );

  it("reads the README and every doc but deploy.md (the rehearsal's script)", () => {
    expect(files).toContain("README.md");
    expect(files).toContain("docs/families.md");
    expect(files).not.toContain("docs/deploy.md");
    expect(all.length).toBeGreaterThan(20);
  });

  it("each block but a diagram (```text) names itself and what its test changes", () => {
    const untagged = all.filter((b) => b.lang !== "text" && (!b.id || !b.note));
    expect(untagged.map((b) => `${b.file}: ${b.code.split("\n")[0]}`)).toEqual([]);
  });

  it("ids are unique within a file", () => {
    for (const f of files) {
      const ids = blocks(f).flatMap((b) => (b.id ? [b.id] : []));
      expect(ids, f).toEqual([...new Set(ids)]);
    }
  });

  it("a test takes each block with docBlock(file, id)", () => {
    const missing = all
      .filter((b) => b.id && !taken.has(`${b.file}#${b.id}`))
      .map((b) => `${b.file}#${b.id}`);
    expect(missing).toEqual([]);
  });

  it("every docBlock(file, id) in the tests names a block that exists", () => {
    const ids = new Set(all.map((b) => `${b.file}#${b.id}`));
    expect([...taken].filter((t) => !ids.has(t))).toEqual([]);
  });

  it("the note names a test file that exists", () => {
    for (const b of all.filter((x) => x.id)) {
      const named = /^(test\/[\w/.-]+\.test\.ts)/.exec(b.note)?.[1];
      expect(named, `${b.file}#${b.id}: ${b.note}`).toBeDefined();
      expect(existsSync(join(ROOT, named!)), named).toBe(true);
    }
  });

  it("every relative link names a file that exists, and a heading in it", () => {
    /** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
    const slug = (h: string) =>
      h
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, "")
        .replace(/\s/g, "-");
    const anchors = (file: string) =>
      new Set(
        readFileSync(join(ROOT, file), "utf8")
          .split("\n")
          .filter((l) => /^#{1,6} /.test(l))
          .map((l) => slug(l.replace(/^#+ /, ""))),
      );
    const broken: string[] = [];
    for (const file of [...files, "docs/deploy.md"]) {
      const text = readFileSync(join(ROOT, file), "utf8").replace(/```[\s\S]*?```/g, "");
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const [path, anchor] = target!.split("#");
        const resolved = path ? join(file, "..", path) : file;
        if (!existsSync(join(ROOT, resolved))) broken.push(`${file}: ${target}`);
        else if (anchor && resolved.endsWith(".md") && !anchors(resolved).has(anchor)) {
          broken.push(`${file}: ${target}`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});
