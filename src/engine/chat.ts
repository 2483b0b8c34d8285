import { Template } from "@huggingface/jinja";
import { BadRequestError } from "../core/index.js";
import { boundedRenderer, type TemplateLimits } from "./template-limits.js";

export interface ChatMessage {
  role: string;
  content: string | Array<{ type: string; text?: string }> | null;
  [key: string]: unknown;
}

export interface ChatOptions {
  addGenerationPrompt?: boolean;
  continueFinalMessage?: boolean;
  /** Overrides the model's `chat_template`. */
  chatTemplate?: string | null;
  /**
   * Render `chatTemplate` (one from a request) in a worker within these limits; the model's
   * own template always renders in-thread.
   */
  chatTemplateLimits?: TemplateLimits;
  specialTokens?: Record<string, string | null>;
}

function textOf(content: ChatMessage["content"]): string {
  if (content === null) return "";
  if (typeof content === "string") return content;
  return content
    .map((part) => {
      if (part.type !== "text")
        throw new BadRequestError(`Unsupported content part type '${part.type}'`, "messages");
      return part.text ?? "";
    })
    .join("");
}

/**
 * Render chat messages into one prompt with the model's Jinja chat template, as transformers'
 * `apply_chat_template` (including `continue_final_message`).
 */
export function renderChat(
  template: string | null,
  messages: readonly ChatMessage[],
  opts: ChatOptions = {},
): string {
  const source = opts.chatTemplate ?? template;
  if (!source) {
    throw new BadRequestError(
      "This model has no chat template (chat_template in tokenizer_config.json); send `input` instead of `messages`",
      "messages",
    );
  }
  if (opts.addGenerationPrompt && opts.continueFinalMessage) {
    throw new BadRequestError(
      "Cannot set both `continue_final_message` and `add_generation_prompt`; the first continues the final message, the second starts a new one",
      "continue_final_message",
    );
  }
  if (messages.length === 0) throw new BadRequestError("messages must not be empty", "messages");
  const plain = messages.map((m) => ({ ...m, content: textOf(m.content) }));
  const context = {
    messages: plain,
    add_generation_prompt: opts.addGenerationPrompt ?? false,
    ...(opts.specialTokens ?? {}),
  };
  let rendered: string;
  try {
    if (opts.chatTemplate && opts.chatTemplateLimits) {
      const render = boundedRenderer();
      if (!render) {
        throw new BadRequestError(
          "chat_template in requests needs a runtime that can bound its execution (the Node server)",
          "chat_template",
        );
      }
      rendered = render(opts.chatTemplate, context, opts.chatTemplateLimits);
    } else {
      rendered = new Template(source).render(context);
    }
  } catch (err) {
    if (err instanceof BadRequestError) throw err;
    throw new BadRequestError(
      `The chat template failed to render: ${(err as Error).message}`,
      "messages",
    );
  }
  if (opts.continueFinalMessage) {
    const last = plain.at(-1)!.content.trim();
    const at = rendered.lastIndexOf(last);
    if (last && at >= 0) rendered = rendered.slice(0, at + last.length);
  }
  return rendered;
}
