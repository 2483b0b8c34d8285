// Cold start of the library path (what a serverless function does on its first request): import
// edgepool, load the model on the calling thread, embed one sentence. Compared with floor.mjs.
const { LLM } = await import(new URL("../dist/index.js", import.meta.url).href);
const llm = await LLM.load({ model: process.argv[2] });
await llm.embed(["A girl is styling her hair."]);
await llm.close();
