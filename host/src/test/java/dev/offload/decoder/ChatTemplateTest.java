package dev.offload.decoder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Chat templates in the two formats most GGUF models use, written here in the Jinja style of Hugging Face's
 * tokenizer_config.json (string concatenation, filters, loop variables, raise_exception), rendered by Jinjava.
 */
class ChatTemplateTest {
    /** Llama 3's format: header tokens around each role, the BOS text first, a trimmed body, an end-of-turn token. */
    static final String LLAMA3 = "{% for message in messages %}{% set content = '<|start_header_id|>' + message['role']"
            + " + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
            + "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
            + "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

    /** ChatML (Qwen2): a default system turn when none is given; roles other than these three are refused. */
    static final String CHATML = "{% for message in messages %}{% if message['role'] not in ['system', 'user', 'assistant'] %}"
            + "{{ raise_exception('unknown role ' + message['role']) }}{% endif %}{% if loop.first and message['role'] != 'system' %}"
            + "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}{{ '<|im_start|>' + message['role']"
            + " + '\\n' + message['content'] + '<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    static final List<ChatTemplate.Message> TURNS = List.of(new ChatTemplate.Message("system", "Be brief."),
            new ChatTemplate.Message("user", "  Hello, wörld 🌍! "));

    @Test
    void llama3StyleTurnsRenderWithHeadersBosAndTrimmedContent() {
        assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHello, wörld 🌍!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
                new ChatTemplate(LLAMA3, "<|begin_of_text|>", "<|end_of_text|>").render(TURNS, true));
    }

    @Test
    void chatMlAddsItsDefaultSystemTurnAndTheGenerationPromptOnlyWhenAsked() {
        ChatTemplate t = new ChatTemplate(CHATML, "", "<|im_end|>");
        assertEquals("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
                t.render(List.of(new ChatTemplate.Message("user", "Hi")), true));
        assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n  Hello, wörld 🌍! <|im_end|>\n", t.render(TURNS, false));
    }

    @Test
    void raiseExceptionAndBrokenTemplatesAreErrorsThatSayWhy() {
        var refused = assertThrows(ChatTemplate.TemplateException.class,
                () -> new ChatTemplate(CHATML, "", "").render(List.of(new ChatTemplate.Message("tool", "x")), true));
        assertTrue(refused.getMessage().contains("unknown role tool"), refused.getMessage());
        var broken = assertThrows(ChatTemplate.TemplateException.class,
                () -> new ChatTemplate("{% for m in messages %}{{ m['content'] }}", "", "").render(TURNS, true));
        assertTrue(broken.getMessage().contains("does not render"), broken.getMessage());
    }
}
