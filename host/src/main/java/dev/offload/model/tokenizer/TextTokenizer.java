package dev.offload.model.tokenizer;

import dev.offload.model.gguf.GgufMetadata;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A decoder LLM's tokenizer, built from a GGUF file's {@code tokenizer.ggml.*} metadata: SentencePiece-style
 * ({@code tokenizer.ggml.model = llama}) or byte-level BPE ({@code gpt2}, with the pre-tokenizer
 * {@code tokenizer.ggml.pre} names). Both produce the ids llama.cpp produces for the same file and text.
 */
public sealed interface TextTokenizer permits SentencePieceTokenizer, ByteLevelBpeTokenizer {
    String MODEL_KEY = "tokenizer.ggml.model";

    /** The tokenizer the metadata describes, or a GgufFormatException naming the file and what is wrong. */
    static TextTokenizer fromGguf(GgufMetadata md) {
        String model = md.string(MODEL_KEY);
        return switch (model) {
            case "llama" -> new SentencePieceTokenizer(md);
            case "gpt2" -> new ByteLevelBpeTokenizer(md);
            default -> throw md.problem(MODEL_KEY + " '" + model + "' is not supported (supported: llama, gpt2)");
        };
    }

    /**
     * Token ids of text; special and control tokens written in the text (e.g. {@code <|eot_id|>}) are matched
     * whole. {@code addBos}: prepend BOS when the file says the model wants one ({@link #addsBos()}).
     */
    default int[] encode(String text, boolean addBos) { return encode(text, addBos, true); }

    /** As {@link #encode(String, boolean)}; without {@code parseSpecial} control tokens are ordinary text. */
    int[] encode(String text, boolean addBos, boolean parseSpecial);

    /** The bytes token {@code id} stands for; control tokens give their text when {@code renderSpecial}. */
    byte[] pieceBytes(int id, boolean renderSpecial);

    /** The vocabulary entry of id as the file stores it (e.g. "▁Hello", "Ġworld", "<0x0A>"). */
    String token(int id);

    TokenType tokenType(int id);

    int vocabularySize();

    /** Whether the file asks for BOS at the start of a prompt. */
    boolean addsBos();

    /** BOS id, or -1 when the vocabulary has none. */
    int bos();

    /** EOS id, or -1. */
    int eos();

    /** End-of-turn id (e.g. {@code <|eot_id|>}, {@code <|im_end|>}), or -1. */
    int eot();

    /** True for every id that ends generation (EOS, EOT, EOM and their kin). */
    boolean isEndOfGeneration(int id);

    /** The piece as text: control tokens as written, bytes that are not whole UTF-8 characters as U+FFFD. */
    default String piece(int id) { return new String(pieceBytes(id, true), StandardCharsets.UTF_8); }

    /**
     * The text of a sequence of ids, the inverse of {@link #encode}: pieces concatenated (control tokens as
     * written) and decoded as UTF-8 once, so characters spanning tokens come out whole.
     */
    default String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) out.writeBytes(pieceBytes(id, true));
        return out.toString(StandardCharsets.UTF_8);
    }

    /** A decoder for tokens arriving one at a time (generation): each push returns only whole characters. */
    default StreamingDecoder streamingDecoder(boolean renderSpecial) { return new StreamingDecoder(this, renderSpecial); }

    /** Text of tokens as they are generated; holds back bytes of a character not yet complete. */
    final class StreamingDecoder {
        private final TextTokenizer tokenizer;
        private final boolean renderSpecial;
        private final Utf8StreamDecoder utf8 = new Utf8StreamDecoder();

        StreamingDecoder(TextTokenizer tokenizer, boolean renderSpecial) {
            this.tokenizer = tokenizer;
            this.renderSpecial = renderSpecial;
        }

        /** The text that token completes (possibly empty). */
        public String push(int id) { return utf8.push(tokenizer.pieceBytes(id, renderSpecial)); }

        /** What is still held back, as text (U+FFFD for an unfinished character). */
        public String finish() { return utf8.finish(); }
    }
}
