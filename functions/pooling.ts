import "../src/lambda/install-web-classes.js";
import { createFunction } from "../src/lambda/function.js";

/** AWS Lambda entry: the pooling routes, the engine loaded once per instance (init phase). */
const fn = await createFunction("pooling");
export const { handler, streamHandler } = fn;
