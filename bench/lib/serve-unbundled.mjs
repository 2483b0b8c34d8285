// `edgepool serve` run from tsc's per-file output (dist/cli/serve.js) instead of the esbuild
// bundle, so that a CPU profile names each function's source file (bench/profile.ts charges
// samples to phases by it). Arguments as for the CLI: `serve-unbundled.mjs serve --model …`.
const { serveCommand } = await import(new URL("../../dist/cli/serve.js", import.meta.url).href);
await serveCommand(process.argv.slice(3));
