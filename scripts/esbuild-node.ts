import type { BuildOptions } from "esbuild";

/** The esbuild options shared by the function bundles and the CLI bundle: ESM for Node 24. */
export const NODE_BUNDLE: BuildOptions = {
  bundle: true,
  // Dynamic imports (the S3 SDK, the stores, commands) become chunks loaded on demand.
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node24",
  legalComments: "none",
  // ESM builds where packages ship them (the AWS SDK): tree-shaken, and dynamic import() of them
  // keeps its named exports (a CommonJS build imported in Node mode exposes only `default`).
  mainFields: ["module", "main"],
  // Bundled CommonJS packages call require() for Node built-ins.
  banner: {
    js: 'import{createRequire as __cr}from"node:module";const require=__cr(import.meta.url);',
  },
  logLevel: "warning",
};
