import type { IOProcessor } from "../engine/io-processor.js";

/** IO-processor plugins shipped with edgepool, by name; each module loads when first asked for. */
export const BUILT_IN_IO_PROCESSORS: Readonly<Record<string, () => Promise<IOProcessor>>> = {
  "nearest-label": async () => (await import("./nearest-label.js")).nearestLabel,
};
