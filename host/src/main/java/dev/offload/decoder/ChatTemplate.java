package dev.offload.decoder;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's own chat template ({@code tokenizer.chat_template}, Jinja as Hugging Face writes them) rendered with
 * Jinjava: the conversation as {@code messages} (role and content), {@code add_generation_prompt}, and the model's
 * {@code bos_token} / {@code eos_token}. Templates may call {@code raise_exception(message)}, which becomes an error.
 */
public final class ChatTemplate {
    /** One turn of a conversation. */
    public record Message(String role, String content) {}

    /** What a template raised with raise_exception, or a template that does not render. */
    public static final class TemplateException extends IllegalArgumentException {
        TemplateException(String message) { super(message); }
    }

    private final String template;
    private final String bosToken;
    private final String eosToken;
    private final Jinjava jinja;

    public ChatTemplate(String template, String bosToken, String eosToken) {
        this.template = template;
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        this.jinja = new Jinjava(JinjavaConfig.newBuilder().withFailOnUnknownTokens(false).build());
        jinja.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception", ChatTemplate.class, "raise", String.class));
    }

    /** Called by templates; always throws. */
    public static String raise(String message) { throw new TemplateException("the chat template refused the conversation: " + message); }

    /** The prompt text for {@code messages}; with {@code addGenerationPrompt} it ends where the assistant's answer starts. */
    public String render(List<Message> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> turns = new ArrayList<>();
        for (Message m : messages) turns.add(Map.of("role", m.role(), "content", m.content()));
        Map<String, Object> context = new HashMap<>();
        context.put("messages", turns);
        context.put("add_generation_prompt", addGenerationPrompt);
        context.put("bos_token", bosToken);
        context.put("eos_token", eosToken);
        RenderResult r;
        try {
            r = jinja.renderForResult(template, context);
        } catch (RuntimeException e) {
            throw unwrap(e);
        }
        for (TemplateError error : r.getErrors()) {
            if (error.getException() != null && unwrap(error.getException()) instanceof TemplateException t) throw t;
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new TemplateException("the chat template does not render: " + error.getMessage() + " (line " + error.getLineno() + ")");
            }
        }
        return r.getOutput();
    }

    private static RuntimeException unwrap(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) if (t instanceof TemplateException te) return te;
        return e instanceof RuntimeException re ? re : new IllegalStateException(e);
    }
}
