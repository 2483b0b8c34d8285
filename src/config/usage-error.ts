/** A bad flag or environment value: the CLI prints its message alone and exits with 2. */
export class UsageError extends Error {}

/**
 * Something a command needs could not be had (a store that does not answer or cannot be
 * opened): the CLI prints its message alone and exits with 1.
 */
export class CliError extends Error {}
