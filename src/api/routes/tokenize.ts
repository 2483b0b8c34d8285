import { z } from "@hono/zod-openapi";
import { BadRequestError } from "../../core/index.js";
import type { App } from "../context.js";
import { requestChatTemplate } from "../prompts.js";
import { postRoute } from "../route.js";
import { engineFor, type RouteDeps } from "../route-deps.js";
import { ChatMessage } from "../schemas.js";

export const TokenizeRequest = z
  .object({
    model: z.string().nullish(),
    prompt: z.string().optional(),
    messages: z.array(ChatMessage).optional(),
    add_special_tokens: z.boolean().nullish(),
    add_generation_prompt: z.boolean().nullish(),
    continue_final_message: z.boolean().nullish(),
    chat_template: z.string().nullish(),
    return_token_strs: z.boolean().nullish(),
  })
  .openapi("TokenizeRequest");

export const DetokenizeRequest = z
  .object({ model: z.string().nullish(), tokens: z.array(z.number().int()) })
  .openapi("DetokenizeRequest");

/** vLLM's `/tokenize` and `/detokenize`. */
export function registerTokenize(app: App, deps: RouteDeps): void {
  postRoute(
    app,
    {
      paths: ["/tokenize"],
      summary: "Tokenize a prompt or chat messages",
      tag: "vLLM",
      body: TokenizeRequest,
      examples: {
        prompt: {
          summary: "A prompt, with the token strings",
          value: { prompt: "What is deep learning?", return_token_strs: true },
        },
      },
      response: z.object({
        count: z.number().int(),
        max_model_len: z.number().int(),
        tokens: z.array(z.number().int()),
        token_strs: z.array(z.string()).nullable(),
      }),
    },
    (c, body) => {
      const engine = engineFor(deps, body.model);
      let text: string;
      let addSpecial: boolean;
      if (body.messages !== undefined) {
        text = engine.renderChat(body.messages, {
          addGenerationPrompt: body.add_generation_prompt ?? false,
          continueFinalMessage: body.continue_final_message ?? false,
          ...requestChatTemplate(body.chat_template, deps.limits),
        });
        addSpecial = body.add_special_tokens ?? false;
      } else if (body.prompt !== undefined) {
        text = body.prompt;
        addSpecial = body.add_special_tokens ?? true;
      } else {
        throw new BadRequestError("Give `prompt` or `messages`", "prompt");
      }
      engine.checkInputLength(text);
      const tokens = engine.tokenizer.encode(text, { addSpecialTokens: addSpecial }).ids;
      return c.json({
        count: tokens.length,
        max_model_len: engine.maxModelLen,
        tokens,
        token_strs: body.return_token_strs ? engine.tokenizer.tokenStrings(tokens) : null,
      });
    },
  );

  postRoute(
    app,
    {
      paths: ["/detokenize"],
      summary: "Turn token ids back into text",
      tag: "vLLM",
      body: DetokenizeRequest,
      examples: {
        bert: {
          summary:
            "[CLS] hello world [SEP] in bert-base-uncased (ids are the model's: see /tokenize)",
          value: { tokens: [101, 7592, 2088, 102] },
        },
      },
      response: z.object({ prompt: z.string() }),
    },
    (c, body) => {
      const engine = engineFor(deps, body.model);
      engine.checkTokenIds(body.tokens);
      return c.json({ prompt: engine.tokenizer.decode(body.tokens) });
    },
  );
}
