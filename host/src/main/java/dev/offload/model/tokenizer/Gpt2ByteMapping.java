package dev.offload.model.tokenizer;

/**
 * GPT-2's byte-to-character mapping for byte-level BPE: every byte becomes one printable character, so token
 * strings never hold raw control bytes or spaces. The printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') map
 * to themselves; the other 68 bytes map, in increasing order, to U+0100, U+0101, ...
 */
final class Gpt2ByteMapping {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            BYTE_TO_CHAR[b] = (char) (printable ? b : next++);
            CHAR_TO_BYTE[BYTE_TO_CHAR[b]] = b;
        }
    }

    private Gpt2ByteMapping() {}

    /** The mapped string of these UTF-8 bytes: one character per byte. */
    static String encode(byte[] utf8) {
        char[] out = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) out[i] = BYTE_TO_CHAR[utf8[i] & 0xFF];
        return new String(out);
    }

    /** The byte a mapped character stands for, or -1 when the character is not one of the 256. */
    static int byteOf(int ch) { return ch >= 0 && ch < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[ch] : -1; }
}
