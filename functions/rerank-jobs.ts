import "../src/lambda/install-web-classes.js";
import { createRerankJobsFunction } from "../src/lambda/rerank-jobs.js";

/** AWS Lambda entry: accept rerank jobs (Postgres + SQS); no model is loaded here. */
export const { handler } = await createRerankJobsFunction();
