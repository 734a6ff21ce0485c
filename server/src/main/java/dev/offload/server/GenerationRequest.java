package dev.offload.server;

import dev.offload.decoder.SamplingParams;
import java.util.List;

/**
 * One generation as the scheduler runs it, already checked: the prompt (plain, or rendered by the chat template) and
 * its token count, where it stops and how it samples.
 *
 * @param addBos       put BOS first when the tokenizer asks for it (false when the template wrote it)
 * @param promptTokens the prompt's tokens, BOS included (for usage and the context check)
 * @param maxTokens    at most this many new tokens
 * @param context      KV cache positions for prompt and answer
 * @param stop         stop strings (OpenAI's {@code stop}); empty for none
 */
record GenerationRequest(String prompt, boolean addBos, int promptTokens, int maxTokens, int context, SamplingParams sampling, List<String> stop) {
    GenerationRequest {
        stop = List.copyOf(stop);
    }
}
