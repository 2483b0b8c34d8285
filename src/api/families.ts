import type { App } from "./context.js";

/**
 * Endpoint families: the unit a serverless function serves. Every POST route belongs to exactly
 * one (a test keeps it so); the server mounts them all.
 */
export const ROUTE_FAMILIES = {
  embeddings: [
    "/v1/embeddings",
    "/embeddings",
    "/v2/embed",
    "/v1/embed",
    "/embed",
    "/embed_sparse",
  ],
  rerank: ["/rerank", "/v1/rerank", "/v2/rerank"],
  score: ["/score", "/v1/score", "/similarity"],
  classify: ["/classify", "/predict"],
  pooling: ["/pooling", "/embed_all"],
  tokenize: ["/tokenize", "/detokenize"],
  /** An Inference Endpoint / SageMaker URL: dispatches by body and model type. */
  endpoint: ["/", "/invocations"],
} as const satisfies Record<string, readonly string[]>;

export type RouteFamily = keyof typeof ROUTE_FAMILIES;

export const FAMILY_NAMES = Object.keys(ROUTE_FAMILIES) as RouteFamily[];

/** The POST paths of the given families. */
export function familyPaths(families: readonly RouteFamily[]): string[] {
  return families.flatMap((f) => {
    const paths = ROUTE_FAMILIES[f] as readonly string[] | undefined;
    if (!paths) throw new Error(`Unknown route family '${f}' (known: ${FAMILY_NAMES.join(", ")})`);
    return [...paths];
  });
}

const mounted = new WeakMap<App, (path: string) => boolean>();

/** Mount only the POST paths `mounts` accepts on `app` (postRoute consults it); without a call, all. */
export function limitRoutes(app: App, mounts: (path: string) => boolean): void {
  mounted.set(app, mounts);
}

export function isMounted(app: App, path: string): boolean {
  return mounted.get(app)?.(path) ?? true;
}
