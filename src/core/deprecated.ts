import { BadRequestError } from "./errors.js";

/** `use_activation` and the deprecated names vLLM still reads as it (removed in vLLM 0.15). */
export interface ActivationSpellings {
  use_activation?: boolean | null | undefined;
  normalize?: boolean | null | undefined;
  softmax?: boolean | null | undefined;
  activation?: boolean | null | undefined;
}

const DEPRECATED = ["normalize", "softmax", "activation"] as const;

/**
 * The request's `use_activation`, reading the deprecated `normalize` / `softmax` / `activation` as
 * it with a warning each; contradicting values are a 400. Null means "the model's default".
 */
export function resolveUseActivation(
  given: ActivationSpellings,
  warn: (message: string) => void,
): boolean | null {
  let value = given.use_activation ?? null;
  let from = "use_activation";
  for (const name of DEPRECATED) {
    const v = given[name];
    if (v === undefined || v === null) continue;
    warn(`'${name}' is deprecated (removed in vLLM 0.15); use 'use_activation' instead`);
    if (value !== null && value !== v) {
      throw new BadRequestError(`'${name}' contradicts '${from}'`, name);
    }
    value = v;
    from = name;
  }
  return value;
}
