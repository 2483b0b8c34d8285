// A function's cold start in a fresh process, as Lambda's runtime starts one: import the handler
// module (its init phase loads the model) and answer one POST /v1/embeddings. Prints the
// function's own JSON log lines (the "cold start" line among them), then {"answer": {status, body},
// "undici": whether Node's fetch implementation was loaded}.
//   node [--expose-gc] function-once.mjs /path/to/dist/functions/embeddings/index.js
const { handler } = await import(process.argv[2]);
const path = "/v1/embeddings";
const res = await handler({
  version: "2.0",
  routeKey: `POST ${path}`,
  rawPath: path,
  rawQueryString: "",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ input: ["A girl is styling her hair.", "a cat"] }),
  isBase64Encoded: false,
  requestContext: { http: { method: "POST", path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1" } },
});
const undici = process.moduleLoadList.some((m) => m.includes("undici"));
console.log(JSON.stringify({ answer: { status: res.statusCode, body: res.body }, undici }));
