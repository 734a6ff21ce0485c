package dev.offload.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.offload.decoder.ChatTemplate;
import dev.offload.decoder.SamplingParams;
import dev.offload.session.GenerationSession;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Reads a completion or chat request into a {@link GenerationRequest}: the prompt ({@code prompt}, or
 * {@code messages} rendered by the model's chat template), then OpenAI's sampling fields with OpenAI's defaults
 * (temperature 1, top_p 1, a random seed) and llama.cpp's extras {@code top_k}, {@code min_p}, {@code repeat_penalty}
 * (off unless given). What offload cannot do is refused with a 400 rather than ignored: {@code n} above 1, penalties
 * other than 0, logprobs, tools.
 */
final class GenerationFields {
    private GenerationFields() {}

    /** {@code context}: the server's KV cache positions per generation (capped at the model's). */
    static GenerationRequest parse(RequestFields f, CompletionShape shape, GenerationSession session, int context) {
        refuseUnsupported(f, shape);
        String prompt;
        boolean addBos;
        String promptParam;
        if (shape == CompletionShape.CHAT) {
            promptParam = "messages";
            prompt = chatPrompt(f, session);
            addBos = !session.startsWithBos(prompt);
        } else {
            promptParam = "prompt";
            List<String> prompts = f.strings("prompt", Integer.MAX_VALUE);
            if (prompts == null) throw ApiException.invalid("prompt", "you must provide 'prompt'");
            if (prompts.size() != 1) throw ApiException.invalid("prompt", "give one prompt per request (got " + prompts.size() + ")");
            prompt = prompts.getFirst();
            addBos = true;
        }
        int ctx = Math.min(context, session.context());
        int promptTokens = session.promptTokens(prompt, addBos);
        if (promptTokens == 0) throw ApiException.invalid(promptParam, "the prompt is empty (no tokens)");
        if (promptTokens >= ctx) throw ApiException.contextExceeded(promptParam, promptTokens, ctx);
        long room = ctx - promptTokens;
        // OpenAI: completions default to 16 tokens; chat to as many as fit. More than fits stops at the full context.
        long defaultMax = shape == CompletionShape.TEXT ? 16 : room;
        long maxTokens = f.integer("max_tokens", defaultMax, 0, Integer.MAX_VALUE);
        if (shape == CompletionShape.CHAT) maxTokens = f.integer("max_completion_tokens", maxTokens, 0, Integer.MAX_VALUE);
        List<String> stop = f.strings("stop", 4);
        return new GenerationRequest(prompt, addBos, promptTokens, (int) Math.min(maxTokens, room), ctx, sampling(f), stop == null ? List.of() : stop);
    }

    static SamplingParams sampling(RequestFields f) {
        float temperature = (float) f.number("temperature", 1, 0, 2);
        float topP = (float) f.number("top_p", 1, 0, 1);
        if (topP == 0) topP = Math.ulp(1f);   // OpenAI allows 0: only the most likely token survives
        int topK = (int) f.integer("top_k", 0, 0, Integer.MAX_VALUE);
        float minP = (float) f.number("min_p", 0, 0, 0.999999);
        float repeatPenalty = (float) f.number("repeat_penalty", 1, 1e-6, 100);
        long seed = f.integer("seed", ThreadLocalRandom.current().nextLong(), Long.MIN_VALUE, Long.MAX_VALUE);
        return new SamplingParams(temperature, topK, topP, minP, repeatPenalty, 64, seed);
    }

    private static String chatPrompt(RequestFields f, GenerationSession session) {
        JsonNode messages = f.node("messages");
        if (messages == null) throw ApiException.invalid("messages", "you must provide 'messages'");
        if (!messages.isArray() || messages.isEmpty()) throw ApiException.invalid("messages", "'messages' must be a non-empty array");
        List<ChatTemplate.Message> turns = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String where = "messages[" + i + "]";
            if (!m.isObject()) throw ApiException.invalid(where, "each message must be an object with 'role' and 'content'");
            String role = m.path("role").asText("");
            switch (role) {
                case "system", "user", "assistant" -> { }
                case "developer" -> role = "system";
                default -> throw ApiException.invalid(where + ".role", "role '" + role + "' is not supported (system, developer, user, assistant)");
            }
            turns.add(new ChatTemplate.Message(role, content(m.get("content"), where + ".content")));
        }
        try {
            return session.chatPrompt(turns);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid("messages", e.getMessage());
        }
    }

    /** A message's text: a string, or an array of {@code {"type": "text", "text": ...}} parts joined. */
    private static String content(JsonNode c, String where) {
        if (c == null || c.isNull()) return "";
        if (c.isTextual()) return c.textValue();
        if (!c.isArray()) throw ApiException.invalid(where, "content must be a string or an array of text parts");
        StringBuilder text = new StringBuilder();
        for (JsonNode part : c) {
            if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                throw ApiException.invalid(where, "only text content parts are supported");
            }
            text.append(part.get("text").textValue());
        }
        return text.toString();
    }

    private static void refuseUnsupported(RequestFields f, CompletionShape shape) {
        if (f.integer("n", 1, 1, Integer.MAX_VALUE) != 1) throw ApiException.invalid("n", "only n = 1 is supported (one choice per request)");
        for (String penalty : List.of("frequency_penalty", "presence_penalty")) {
            if (f.number(penalty, 0, -2, 2) != 0) throw ApiException.invalid(penalty, "'" + penalty + "' is not supported; use repeat_penalty");
        }
        JsonNode logprobs = f.node("logprobs");
        if (logprobs != null && !(logprobs.isBoolean() && !logprobs.booleanValue())) {
            throw ApiException.invalid("logprobs", "logprobs are not supported");
        }
        if (shape == CompletionShape.CHAT) {
            JsonNode tools = f.node("tools");
            if (tools != null && !(tools.isArray() && tools.isEmpty())) throw ApiException.invalid("tools", "tools are not supported");
            if (f.has("response_format") && !"text".equals(f.node("response_format").path("type").asText("text"))) {
                throw ApiException.invalid("response_format", "only the text response format is supported");
            }
        } else {
            if (f.bool("echo", false)) throw ApiException.invalid("echo", "echo is not supported");
            if (f.has("suffix")) throw ApiException.invalid("suffix", "suffix is not supported");
        }
    }
}
