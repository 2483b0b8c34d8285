/** wrangler's CompiledWasm rule: a `.wasm` import is a module compiled at deploy time. */
declare module "*.wasm" {
  const module: object;
  export default module;
}
