import type { LlamaModel } from "node-llama-cpp";
import { RstarError } from "../../errors/index.js";

/** (user message, start of the assistant's reply) → the prompt text, the reply left open for the model to continue. */
export type ChatRenderer = (user: string, assistantPrefix: string) => string;

/**
 * A renderer for a GGUF's own chat template (`tokenizer.chat_template`, Jinja), through node-llama-cpp's
 * JinjaTemplateChatWrapper as its chat sessions use it. The result is text: the template's special tokens
 * (`<|im_start|>`, …) are written as their token text, which the backend's tokenizer reads back as those tokens;
 * the message text (the rStar step markers included) stays plain text.
 */
export async function chatRenderer(model: LlamaModel, template: string): Promise<ChatRenderer> {
    const { JinjaTemplateChatWrapper } = await import("node-llama-cpp");
    let wrapper: InstanceType<typeof JinjaTemplateChatWrapper>;
    try {
        wrapper = new JinjaTemplateChatWrapper({ template, trimLeadingWhitespaceInResponses: false });
    } catch (error) {
        throw new RstarError("INVALID_INPUT", `${model.filename ?? "the model"}: its chat template (tokenizer.chat_template) cannot be used: ${(error as Error).message}`, { cause: error });
    }
    return (user, assistantPrefix) => {
        const { contextText } = wrapper.generateContextState({
            chatHistory: [
                { type: "user", text: user },
                { type: "model", response: assistantPrefix === "" ? [] : [assistantPrefix] },
            ],
        });
        // Special tokens as their text (BOS/EOS by the model's own token text), plain text as it is.
        return model.detokenize(contextText.tokenize(model.tokenizer), true);
    };
}
