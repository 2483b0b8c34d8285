/** A bad flag or environment value: the CLI prints its message alone and exits with 2. */
export class UsageError extends Error {}
