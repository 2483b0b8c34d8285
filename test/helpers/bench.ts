import { existsSync } from "node:fs";
import { TOKENIZER } from "../../bench/lib/models.js";

/**
 * Why the benches cannot build their models here, or null: they need the shared data folder's
 * tokenizer (`EDGEPOOL_SHARED_DIR`, or a `shared/` folder above the checkout), which is not part
 * of the repository. `EDGEPOOL_REQUIRE_BENCH=1` makes its absence a failure instead of a skip.
 */
export const benchUnavailable: string | null = existsSync(TOKENIZER)
  ? null
  : `no shared tokenizer at ${TOKENIZER} (set EDGEPOOL_SHARED_DIR)`;

if (benchUnavailable && process.env.EDGEPOOL_REQUIRE_BENCH === "1")
  throw new Error(`benches required but unavailable: ${benchUnavailable}`);
