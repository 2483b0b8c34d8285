import { EdgepoolError } from "../core/index.js";

/**
 * A request whose prompts hold more tokens than `--max-request-tokens` (what the model would run
 * for it: each input's tokens after tokenization and truncation, summed; a cross-encoder pair
 * counts its joined tokens), refused with a 413 before any of it runs.
 */
export class RequestTooLargeError extends EdgepoolError {
  constructor(tokens: number, limit: number, counted: "all" | "so far") {
    super(
      `The request has ${counted === "all" ? "" : "at least "}${tokens} prompt tokens, over the limit of ${limit} per request (--max-request-tokens; EDGEPOOL_MAX_REQUEST_TOKENS in a function): send fewer or shorter inputs per request`,
      413,
      "BadRequestError",
    );
  }
}

/**
 * Tokenize `items` in order, refusing the request as soon as its tokens pass `limit`, so that an
 * oversized request costs at most one input's tokenization beyond the limit.
 */
export function tokenizeWithin<T, P extends { ids: readonly number[] }>(
  items: readonly T[],
  limit: number,
  tokenize: (item: T) => P,
): P[] {
  let total = 0;
  return items.map((item, i) => {
    const tokenized = tokenize(item);
    total += tokenized.ids.length;
    if (total > limit)
      throw new RequestTooLargeError(total, limit, i === items.length - 1 ? "all" : "so far");
    return tokenized;
  });
}

/** Refuse sequences whose tokens together pass `limit` (the check before they are scheduled). */
export function checkRequestTokens(seqs: readonly { ids: readonly number[] }[], limit: number) {
  let total = 0;
  for (const s of seqs) total += s.ids.length;
  if (total > limit) throw new RequestTooLargeError(total, limit, "all");
}
