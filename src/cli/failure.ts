/** How the CLI reports an error: one line, its exit code, and a stack only for a bug. */
export interface Failure {
  message: string;
  exitCode: number;
  /** Set for an error nobody foresaw (a bug to report), else undefined. */
  stack: string | undefined;
}

/** A Node system error (ECONNREFUSED, EACCES, ENOSPC…): the environment's, not a bug. */
function isSystemError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && /^E[A-Z]+$/.test(code) && "syscall" in (err as object);
}

/**
 * Usage, configuration and model errors exit 2, a store or system that fails exits 1: each as one
 * line (docs/security.md). Anything else is a bug: exit 1, with its stack.
 */
export async function failureOf(err: unknown): Promise<Failure> {
  const [{ EdgepoolError, ModelConfigError }, { ModelStoreError }, { CliError, UsageError }] =
    await Promise.all([
      import("../core/errors.js"),
      import("../models/errors.js"),
      import("../config/usage-error.js"),
    ]);
  const error = err instanceof Error ? err : new Error(String(err));
  const message = error.message.replace(/\s*\n\s*/g, " ").trim();
  const usage =
    err instanceof UsageError ||
    err instanceof ModelConfigError ||
    err instanceof EdgepoolError ||
    err instanceof ModelStoreError;
  if (usage) return { message, exitCode: 2, stack: undefined };
  if (err instanceof CliError || isSystemError(err))
    return { message, exitCode: 1, stack: undefined };
  return { message, exitCode: 1, stack: error.stack };
}
