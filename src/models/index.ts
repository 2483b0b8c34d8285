export { defaultCacheDir, ModelCache } from "./cache.js";
export { IntegrityError, ModelStoreError } from "./errors.js";
export { type Dtype, onnxFileFor, selectModelFiles } from "./files.js";
export {
  MANIFEST_FILE,
  type Manifest,
  type ManifestFile,
  manifestSha,
  parseManifest,
  verifyFolder,
} from "./manifest.js";
export { parseBucketUri, parseHubRef, safeRelativePath } from "./paths.js";
export {
  type ModelSourceOptions,
  type PinOptions,
  type PinResult,
  pinModel,
  type ResolvedModel,
  resolveModel,
  type VerifyReport,
  verifyPinned,
} from "./resolve.js";
