// Workers forbid compiling wasm from bytes at run time: the module is compiled at deploy time and
// imported (wrangler's CompiledWasm rule), then handed to ONNX Runtime's loader below.
import ortWasm from "onnxruntime-web/ort-wasm-simd-threaded.wasm";
import * as ort from "onnxruntime-web/wasm";

/** The part of the JS WebAssembly API used here (the project's lib has no wasm types). */
interface WasmApi {
  Module: abstract new (...args: never[]) => object;
  instantiate(source: unknown, imports?: object): Promise<unknown>;
}

let patched = false;
let memory: { buffer: ArrayBuffer } | null = null;

/** Bytes of onnxruntime-web's wasm heap (model weights, arena, buffers); 0 before it starts. */
export function wasmHeapBytes(): number {
  return memory?.buffer.byteLength ?? 0;
}

/**
 * Make onnxruntime-web start inside workerd: single-threaded, no proxy worker, and its
 * `WebAssembly.instantiate(bytes)` answered with the module imported at deploy time.
 */
function prepare(): void {
  if (patched) return;
  patched = true;
  const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
  const instantiate = wasm.instantiate.bind(wasm);
  wasm.instantiate = (source: unknown, imports?: object) => {
    if (source instanceof wasm.Module) return instantiate(source, imports);
    return instantiate(ortWasm, imports).then((instance) => {
      // The heap is exported, or (threaded builds) imported: look in both.
      const exports = (instance as { exports: Record<string, unknown> }).exports;
      const imported = Object.values((imports ?? {}) as Record<string, Record<string, unknown>>);
      memory =
        [exports, ...imported]
          .flatMap((o) => Object.values(o ?? {}))
          .find(
            (e): e is { buffer: ArrayBuffer } =>
              typeof e === "object" && e !== null && "buffer" in e && "grow" in e,
          ) ?? null;
      return { instance, module: ortWasm };
    });
  };
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  // Any bytes: they only make the loader take the instantiate path above instead of a fetch.
  ort.env.wasm.wasmBinary = new Uint8Array(8);
  ort.env.logLevel = "error";
}

/** Create an onnxruntime-web session (wasm, one thread) from the model's bytes. */
export async function createWebSession(bytes: Uint8Array): Promise<ort.InferenceSession> {
  prepare();
  return ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
}

export const WebTensor = ort.Tensor;
