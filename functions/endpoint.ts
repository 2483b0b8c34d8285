import "../src/lambda/install-web-classes.js";
import { createFunction } from "../src/lambda/function.js";

/** AWS Lambda entry: TEI's root and /invocations, the engine loaded once per instance (init phase). */
const fn = await createFunction("endpoint");
export const { handler, streamHandler } = fn;
