/**
 * A list given as repeated flags and/or one comma-separated value (an environment variable):
 * entries trimmed, empty ones dropped, flags first.
 */
export function listFrom(
  ...sources: Array<string | readonly string[] | null | undefined>
): string[] {
  return sources.flatMap((s) =>
    (typeof s === "string" ? s.split(",") : (s ?? [])).map((v) => v.trim()).filter(Boolean),
  );
}
