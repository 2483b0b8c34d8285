import type { Writable } from "node:stream";
import {
  type APIGatewayProxyResult,
  handle,
  type LambdaContext,
  type LambdaEvent,
  streamHandle,
} from "hono/aws-lambda";
import type { App } from "../api/context.js";
import type { Fetch } from "./direct-fetch.js";

/** A streaming handler as Lambda's Node runtime calls it. */
export type StreamingHandler = (
  event: LambdaEvent,
  responseStream: Writable,
  context: LambdaContext,
) => Promise<void>;

export type BufferedHandler = (
  event: LambdaEvent,
  context?: LambdaContext,
) => Promise<APIGatewayProxyResult>;

interface LambdaGlobals {
  awslambda?: { streamifyResponse?: (fn: StreamingHandler) => StreamingHandler };
}

/**
 * The buffered and streaming Lambda handlers of an app. Each invocation first makes sure the
 * engine is loaded (`ensure`); buffered results pass through `finish` (the 6 MB rule).
 * `streamHandler` exists only where the runtime provides `awslambda` (Hono's `streamHandle`
 * calls it at creation).
 */
export function lambdaHandlers(
  fetcher: Fetch,
  ensure: () => Promise<void>,
  finish: (result: APIGatewayProxyResult) => APIGatewayProxyResult,
): { handler: BufferedHandler; streamHandler: StreamingHandler | undefined } {
  // Hono's adapters call only the app's `fetch`.
  const app = fetcher as App;
  const buffered = handle(app);
  const handler: BufferedHandler = async (event, context) => {
    await ensure();
    return finish(await buffered(event, context));
  };
  // The AWS SDK also defines `awslambda` (its InvokeStore): look for the runtime's function.
  const runtime = (globalThis as unknown as LambdaGlobals).awslambda;
  let streamHandler: StreamingHandler | undefined;
  if (typeof runtime?.streamifyResponse === "function") {
    const streaming = streamHandle(app) as unknown as StreamingHandler;
    streamHandler = runtime!.streamifyResponse!(async (event, responseStream, context) => {
      await ensure();
      return streaming(event, responseStream, context);
    });
  }
  return { handler, streamHandler };
}
