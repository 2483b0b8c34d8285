import { Template } from "@huggingface/jinja";
import { BadRequestError, type ModelConfig, ModelConfigError } from "../core/index.js";

/** Renders a (query, document) pair into one prompt for an LLM reranker. */
export type ScoreTemplate = (query: string, document: string, instruction: string | null) => string;

export const QWEN3_RERANKER_INSTRUCTION =
  "Given a web search query, retrieve relevant passages that answer the query";

/**
 * vLLM's `qwen3_reranker` template: the prompt format Qwen3-Reranker was trained on (its model
 * card) — a system turn that asks for "yes" or "no", the user turn with `<Instruct>`, `<Query>`
 * and `<Document>`, and the assistant turn opened with an empty think block.
 */
export const qwen3Reranker: ScoreTemplate = (query, document, instruction) =>
  '<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n' +
  `<Instruct>: ${instruction ?? QWEN3_RERANKER_INSTRUCTION}\n<Query>: ${query}\n<Document>: ${document}` +
  "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n";

export const SCORE_TEMPLATES: Record<string, ScoreTemplate> = { qwen3_reranker: qwen3Reranker };

/**
 * A Jinja score template, rendered as vLLM renders score templates: `messages` holds the
 * instruction (role `system`, when given), then the `query` and the `document`.
 */
export function jinjaScoreTemplate(source: string): ScoreTemplate {
  let template: Template;
  try {
    template = new Template(source);
  } catch (err) {
    throw new ModelConfigError(`The score template does not parse: ${(err as Error).message}`);
  }
  return (query, document, instruction) => {
    const messages = [
      ...(instruction === null ? [] : [{ role: "system", content: instruction }]),
      { role: "query", content: query },
      { role: "document", content: document },
    ];
    try {
      return template.render({ messages });
    } catch (err) {
      throw new BadRequestError(`The score template failed to render: ${(err as Error).message}`);
    }
  };
}

/**
 * The score template a model uses: the one named or given (`--score-template`), else
 * `qwen3_reranker` when `config.json` says `is_original_qwen3_reranker` (as vLLM's override).
 */
export function resolveScoreTemplate(
  option: string | null | undefined,
  config: ModelConfig,
): ScoreTemplate | null {
  if (option) return SCORE_TEMPLATES[option] ?? jinjaScoreTemplate(option);
  return config.is_original_qwen3_reranker === true ? qwen3Reranker : null;
}
