/** What a template from a request may use: wall time and heap (`--chat-template-timeout`). */
export interface TemplateLimits {
  timeoutMs: number;
  heapMb: number;
}

export const DEFAULT_TEMPLATE_LIMITS: TemplateLimits = { timeoutMs: 1000, heapMb: 64 };

/** Renders a request's template within limits (Node: a throwaway worker thread). */
export type BoundedRenderer = (
  source: string,
  context: Record<string, unknown>,
  limits: TemplateLimits,
) => string;

let bounded: BoundedRenderer | null = null;

/** Installed by the Node entry point (`bounded-template.ts`); runtimes without threads have none. */
export function setBoundedRenderer(render: BoundedRenderer): void {
  bounded = render;
}

export function boundedRenderer(): BoundedRenderer | null {
  return bounded;
}
