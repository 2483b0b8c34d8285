import { describe, expect, it } from "vitest";
import { selectModelFiles } from "./files.js";

describe("the files a model needs", () => {
  it("carry what each family reads: SPLADE's pooling and IDF, a Router's static weights, bge-m3's heads, a Stanford ColBERT's weights", () => {
    const common = ["config.json", "tokenizer.json", "onnx/model.onnx", "README.md"];
    const splade = selectModelFiles([
      ...common,
      "modules.json",
      "router_config.json",
      "idf.json",
      "query_0_SparseStaticEmbedding/config.json",
      "query_0_SparseStaticEmbedding/model.safetensors",
      "document_1_SpladePooling/config.json",
      "1_SpladePooling/config.json",
      "model.safetensors",
    ]);
    expect(splade).toEqual(
      expect.arrayContaining([
        "router_config.json",
        "idf.json",
        "query_0_SparseStaticEmbedding/model.safetensors",
        "document_1_SpladePooling/config.json",
        "1_SpladePooling/config.json",
      ]),
    );
    // A checkpoint's PyTorch weights are not needed beside its ONNX export...
    expect(splade).not.toContain("model.safetensors");
    expect(splade).not.toContain("README.md");
    // ...except a Stanford ColBERT checkpoint's, which hold its projection.
    expect(selectModelFiles([...common, "artifact.metadata", "model.safetensors"])).toEqual(
      expect.arrayContaining(["artifact.metadata", "model.safetensors"]),
    );
    expect(
      selectModelFiles([...common, "sparse_linear.safetensors", "colbert_linear.safetensors"]),
    ).toEqual(expect.arrayContaining(["sparse_linear.safetensors", "colbert_linear.safetensors"]));
  });
});
