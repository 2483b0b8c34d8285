// A minimal IO-processor plugin loaded from a module path in tests: counts each text's tokens.
export default {
  name: "count-tokens",
  parseRequest(data) {
    return { data, task: "embed", prompts: data.texts };
  },
  outputToResponse(outputs) {
    return outputs.map((o) => o.promptTokenIds.length);
  },
};
