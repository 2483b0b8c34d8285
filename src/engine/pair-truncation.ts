/**
 * Lengths a sentence pair keeps under `room` tokens with the tokenizers' `longest_first`
 * strategy: one token at a time from the longer side (the first on a tie) until the pair fits.
 * Computed in O(1) instead of dropping (and copying) one token per step.
 */
export function pairLengths(first: number, second: number, room: number): [number, number] {
  const excess = first + second - Math.max(room, 0);
  if (excess <= 0) return [first, second];
  const diff = Math.abs(first - second);
  if (excess <= diff) return first >= second ? [first - excess, second] : [first, second - excess];
  // Both sides meet at the shorter length, then lose a token each in turn, the first side first.
  const rest = excess - diff;
  const low = Math.min(first, second);
  return [Math.max(low - Math.ceil(rest / 2), 0), Math.max(low - Math.floor(rest / 2), 0)];
}
