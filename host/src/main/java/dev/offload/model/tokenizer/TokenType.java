package dev.offload.model.tokenizer;

/** What a vocabulary entry is, as {@code tokenizer.ggml.token_type} numbers it (llama.cpp's token types). */
public enum TokenType {
    UNDEFINED, NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE;

    /** The type for a token_type number; numbers outside 0..6 read as UNDEFINED, as llama.cpp reads them. */
    static TokenType of(int id) {
        TokenType[] all = values();
        return id >= 0 && id < all.length ? all[id] : UNDEFINED;
    }

    /** Matched whole in input text before the tokenizer runs (control and unknown ones only when asked). */
    boolean isSpecial() { return this == CONTROL || this == USER_DEFINED || this == UNKNOWN; }
}
