import { buildApp } from "../api/app.js";
import type { App } from "../api/context.js";
import type { EdgeConfig, LocalModel } from "../config/worker.js";
import { assembleEngine } from "../engine/assemble.js";
import { InThreadBackend } from "../engine/backend.js";
import { parseModelFolder } from "../engine/folder.js";
import { OnnxModel } from "../engine/onnx-model.js";
import { TextTokenizer } from "../engine/tokenizer.js";
import type { R2Bucket } from "./bindings.js";
import { createWebSession, WebTensor } from "./ort-web.js";
import { pinnedR2Folder } from "./r2-folder.js";

/**
 * Load the pinned model from R2 (verified file by file), start it on onnxruntime-web, and mount
 * the same app as the server and the functions on it (auth and limits are the gateway's job).
 */
export async function loadLocalModel(
  bucket: R2Bucket,
  local: LocalModel,
  config: EdgeConfig,
): Promise<App> {
  const { reader } = await pinnedR2Folder(bucket, local.prefix);
  const folder = await parseModelFolder(reader, local.onnxFile);
  const tokenizer = new TextTokenizer(folder.tokenizerJson, folder.tokenizerConfig);
  const session = await createWebSession(await reader.read(folder.onnxFile));
  const backend = new InThreadBackend(new OnnxModel(session, WebTensor, folder.config));
  const engine = await assembleEngine(
    { model: local.model, servedModelName: local.model },
    folder,
    folder.config,
    tokenizer,
    backend,
  );
  return buildApp(engine, {
    payloadLimit: config.payloadLimit,
    maxClientBatchSize: config.maxClientBatchSize,
  }).app;
}
