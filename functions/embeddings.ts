import "../src/lambda/install-web-classes.js";
import { createFunction } from "../src/lambda/function.js";

/** AWS Lambda entry: the embeddings routes, the engine loaded once per instance (init phase). */
const fn = await createFunction("embeddings");
export const { handler, streamHandler } = fn;
