/**
 * `record[key]` when `key` is the record's own property, else undefined: a key from a request,
 * a flag or a file (`constructor`, `__proto__`, `toString`) never reaches `Object.prototype`.
 */
export function ownValue<T>(
  record: Readonly<Record<string, T>> | undefined,
  key: string,
): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Set `record[key]` as an own data property, even for `__proto__` (which `=` would not). */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
