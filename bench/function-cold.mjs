// A function's cold start: a new process imports the handler module (its init phase loads the
// engine from EDGEPOOL_MODEL_URI) and answers one API Gateway v2 event. After the function's own
// log lines, prints one JSON line {"bench": {imported, answered, mainCpu}, "answer": {status,
// body}, "undici": boolean}: ms since the process started when the import resolved and when the
// answer came; the main thread's CPU time until then (user + system, ms; unlike wall time, not
// inflated by other processes on a shared machine); the answer; whether Node's fetch
// implementation was loaded. Exits 1 unless the answer is a 200.
// Usage: node [--expose-gc] function-cold.mjs dist/functions/<name>/index.js
const { handler } = await import(process.argv[2]);
const imported = performance.now();
const body = JSON.stringify({ input: "A girl is styling her hair." });
const path = "/v1/embeddings";
const res = await handler({
  version: "2.0",
  routeKey: `POST ${path}`,
  rawPath: path,
  rawQueryString: "",
  headers: { "content-type": "application/json" },
  body,
  isBase64Encoded: false,
  requestContext: { http: { method: "POST", path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1" } },
});
const answered = performance.now();
const cpu = process.threadCpuUsage();
if (res.statusCode !== 200) {
  console.error(res.body);
  process.exit(1);
}
const mainCpu = (cpu.user + cpu.system) / 1000;
const undici = process.moduleLoadList.some((m) => m.includes("undici"));
console.log(
  JSON.stringify({
    bench: { imported, answered, mainCpu },
    answer: { status: res.statusCode, body: res.body },
    undici,
  }),
);
