/** Numerically stable softmax, in place on a copy. */
export function softmax(values: ArrayLike<number>): Float32Array {
  const out = Float32Array.from(values);
  let max = Number.NEGATIVE_INFINITY;
  for (const v of out) if (v > max) max = v;
  let sum = 0;
  for (let i = 0; i < out.length; i++) {
    const e = Math.exp(out[i]! - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

export function sigmoidScalar(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

export function sigmoid(values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = sigmoidScalar(values[i]!);
  return out;
}

/** L2 normalization, as torch.nn.functional.normalize (eps 1e-12). */
export function l2Normalize(values: ArrayLike<number>): Float32Array {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
  const norm = Math.max(Math.sqrt(sum), 1e-12);
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]! / norm;
  return out;
}

export type ActivationName = "identity" | "sigmoid" | "softmax" | "tanh" | "relu" | "gelu";

/** Elementwise activations by name (softmax over the whole vector). */
export function activate(name: ActivationName, values: ArrayLike<number>): Float32Array {
  switch (name) {
    case "identity":
      return Float32Array.from(values);
    case "sigmoid":
      return sigmoid(values);
    case "softmax":
      return softmax(values);
    case "tanh":
      return Float32Array.from(values, Math.tanh);
    case "relu":
      return Float32Array.from(values, (x) => Math.max(0, x));
    case "gelu":
      return Float32Array.from(values, (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)));
  }
}

/** erf with |error| < 1.2e-7 (Numerical Recipes erfc, Chebyshev fit). */
function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}
