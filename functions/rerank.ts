import "../src/lambda/install-web-classes.js";
import { createFunction } from "../src/lambda/function.js";

/** AWS Lambda entry: the rerank routes, the engine loaded once per instance (init phase). */
const fn = await createFunction("rerank");
export const { handler, streamHandler } = fn;
