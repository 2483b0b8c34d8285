import type { z } from "@hono/zod-openapi";
import { type ActivationSpellings, BadRequestError, type PoolingParams } from "../core/index.js";
import type { ChatOptions } from "../engine/chat.js";
import type { Engine } from "../engine/engine.js";
import type { Prompt, PromptOptions } from "../engine/prompts.js";
import { DEFAULT_TEMPLATE_LIMITS, type TemplateLimits } from "../engine/template-limits.js";
import type { RequestScope } from "./context.js";
import type { PromptFields } from "./schemas.js";
import { useActivationOf } from "./warnings.js";

type PromptRequest = {
  [K in keyof typeof PromptFields]?: z.infer<(typeof PromptFields)[K]>;
};

export interface Limits {
  maxClientBatchSize: number;
  /** vLLM's `--trust-request-chat-template`: accept `chat_template` in requests. */
  trustRequestChatTemplate?: boolean;
  /** Time and heap a request's chat template may use. */
  chatTemplateLimits?: TemplateLimits;
}

/**
 * A request's own `chat_template`: refused unless trusted (as vLLM), then rendered in a worker
 * within the limits.
 */
export function requestChatTemplate(
  template: string | null | undefined,
  limits: Limits,
): Pick<ChatOptions, "chatTemplate" | "chatTemplateLimits"> {
  if (template === undefined || template === null) return {};
  if (!limits.trustRequestChatTemplate) {
    throw new BadRequestError(
      "Chat template is passed with request, but --trust-request-chat-template is not set. Refused request with untrusted chat template.",
      "chat_template",
    );
  }
  return {
    chatTemplate: template,
    chatTemplateLimits: limits.chatTemplateLimits ?? DEFAULT_TEMPLATE_LIMITS,
  };
}

export function checkBatchSize(count: number, limits: Limits, param = "input"): void {
  if (count > limits.maxClientBatchSize) {
    throw new BadRequestError(
      `batch size ${count} > maximum allowed batch size ${limits.maxClientBatchSize}`,
      param,
    );
  }
}

/** Normalize `input` (or a list of texts under another name) into prompts, refusing empty ones. */
export function promptsFromInput(input: unknown, limits: Limits, param = "input"): Prompt[] {
  let prompts: Prompt[];
  if (typeof input === "string") prompts = [input];
  else if (Array.isArray(input) && input.length > 0 && typeof input[0] === "number") {
    prompts = [{ promptTokenIds: input as number[] }];
  } else if (Array.isArray(input)) {
    prompts = (input as Array<string | number[]>).map((x) =>
      typeof x === "string" ? x : { promptTokenIds: x },
    );
  } else {
    throw new BadRequestError(`${param} is required`, param);
  }
  if (prompts.length === 0) throw new BadRequestError(`${param} must not be empty`, param);
  checkBatchSize(prompts.length, limits, param);
  prompts.forEach((p, i) => {
    const empty = typeof p === "string" ? p.length === 0 : p.promptTokenIds.length === 0;
    if (empty) {
      throw new BadRequestError(
        prompts.length === 1 ? `${param} must not be empty` : `${param}[${i}] must not be empty`,
        param,
      );
    }
  });
  return prompts;
}

/** Prompts and prompt options from a request with `input` or chat `messages`. */
export function requestPrompts(
  body: PromptRequest,
  engine: Engine,
  limits: Limits,
): { prompts: Prompt[]; options: PromptOptions } {
  const options: PromptOptions = {};
  if (body.truncate_prompt_tokens !== undefined && body.truncate_prompt_tokens !== null) {
    options.truncatePromptTokens = body.truncate_prompt_tokens;
  }
  if (body.truncation_side) options.truncationSide = body.truncation_side;
  if (body.messages !== undefined) {
    if (body.input !== undefined) {
      throw new BadRequestError("Give either `input` or `messages`, not both", "messages");
    }
    const text = engine.renderChat(body.messages, {
      addGenerationPrompt: body.add_generation_prompt ?? false,
      continueFinalMessage: body.continue_final_message ?? false,
      ...requestChatTemplate(body.chat_template, limits),
    });
    options.addSpecialTokens = body.add_special_tokens ?? false;
    return { prompts: [text], options };
  }
  options.addSpecialTokens = body.add_special_tokens ?? true;
  return {
    prompts: engine.withPrompt(promptsFromInput(body.input, limits), body.prompt_name),
    options: { ...options, ...roleOption(engine, body.prompt_name) },
  };
}

/**
 * A prompt-taking body's prompts and pooling parameters: its `input` or chat `messages`, prompt
 * options, `dimensions` and `use_activation` (vLLM's deprecated spellings read as it, with a
 * warning on the request).
 */
export function poolingInputs(
  c: RequestScope,
  body: PromptRequest & ActivationSpellings & { dimensions?: number | null | undefined },
  engine: Engine,
  limits: Limits,
): { prompts: Prompt[]; params: PromptOptions & PoolingParams } {
  const { prompts, options } = requestPrompts(body, engine, limits);
  const useActivation = useActivationOf(c, body);
  return { prompts, params: { ...options, dimensions: body.dimensions ?? null, useActivation } };
}

/**
 * The side a prompt name selects on a model that encodes queries and documents differently
 * (ColBERT, inference-free SPLADE), as prompt options; nothing for other models.
 */
export function roleOption(engine: Engine, name: string | null | undefined): PromptOptions {
  const role = engine.roleOf(name);
  return role ? { role } : {};
}
