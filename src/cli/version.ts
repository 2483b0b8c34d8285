import { readFileSync } from "node:fs";

/** edgepool's version, from its package.json (dist/cli/ and src/cli/ are two folders below it). */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
    ) as { version?: string };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}
