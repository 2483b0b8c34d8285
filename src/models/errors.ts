/** A model that cannot be resolved, fetched or verified. */
export class ModelStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelStoreError";
  }
}

/** A file whose bytes do not match its pinned sha256. */
export class IntegrityError extends ModelStoreError {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `${path} does not match its manifest: expected sha256 ${expected}, got ${actual}. Refusing to load it.`,
    );
    this.name = "IntegrityError";
  }
}
