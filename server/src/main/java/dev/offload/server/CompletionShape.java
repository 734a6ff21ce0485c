package dev.offload.server;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The two OpenAI generation APIs differ only in how a choice looks: {@code /v1/completions} answers {@code text},
 * {@code /v1/chat/completions} an assistant {@code message} (streamed as {@code delta}s, the first naming the role).
 */
enum CompletionShape {
    TEXT("cmpl-", "text_completion", "text_completion") {
        @Override ObjectNode choice(String text, String finishReason) {
            ObjectNode c = base(finishReason);
            c.put("text", text);
            return c;
        }

        @Override ObjectNode chunkChoice(String piece, String finishReason) { return choice(piece == null ? "" : piece, finishReason); }

        @Override ObjectNode opening() { return null; }
    },
    CHAT("chatcmpl-", "chat.completion", "chat.completion.chunk") {
        @Override ObjectNode choice(String text, String finishReason) {
            ObjectNode c = base(finishReason);
            ObjectNode m = c.putObject("message");
            m.put("role", "assistant");
            m.put("content", text);
            m.putNull("refusal");
            return c;
        }

        @Override ObjectNode chunkChoice(String piece, String finishReason) {
            ObjectNode c = base(finishReason);
            ObjectNode d = c.putObject("delta");
            if (piece != null) d.put("content", piece);
            return c;
        }

        @Override ObjectNode opening() {
            ObjectNode c = base(null);
            c.putObject("delta").put("role", "assistant").put("content", "");
            return c;
        }
    };

    final String idPrefix;
    /** {@code object} of a whole answer. */
    final String object;
    /** {@code object} of a streamed chunk. */
    final String chunkObject;

    CompletionShape(String idPrefix, String object, String chunkObject) {
        this.idPrefix = idPrefix;
        this.object = object;
        this.chunkObject = chunkObject;
    }

    /** The one choice of a whole answer. */
    abstract ObjectNode choice(String text, String finishReason);

    /** A streamed chunk's choice: a piece of text (null: none), and on the last one the finish reason. */
    abstract ObjectNode chunkChoice(String piece, String finishReason);

    /** The choice of the chunk that opens a stream, or null when the shape has none. */
    abstract ObjectNode opening();

    static ObjectNode base(String finishReason) {
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.put("index", 0);
        c.putNull("logprobs");
        c.put("finish_reason", finishReason);
        return c;
    }
}
