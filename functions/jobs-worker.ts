import "../src/lambda/install-web-classes.js";
import { createJobsWorkerFunction } from "../src/lambda/jobs-worker.js";

/** AWS Lambda entry (SQS trigger): run and deliver rerank jobs; partial batch failures. */
export const { handler } = await createJobsWorkerFunction();
