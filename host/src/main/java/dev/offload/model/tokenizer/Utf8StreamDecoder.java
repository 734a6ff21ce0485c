package dev.offload.model.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Turns a stream of byte chunks (token pieces) into text without ever splitting a character: a multi-byte UTF-8
 * sequence cut at a chunk boundary is held back until its last byte arrives. Bytes that can never form a
 * character come out as U+FFFD at once; {@link #finish} releases a sequence left incomplete at the end as U+FFFD.
 */
public final class Utf8StreamDecoder {
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    /** Appends bytes; returns the text of every character now complete (possibly empty). */
    public String push(byte[] bytes) {
        pending.writeBytes(bytes);
        byte[] all = pending.toByteArray();
        int complete = completePrefix(all);
        pending.reset();
        pending.write(all, complete, all.length - complete);
        return new String(all, 0, complete, StandardCharsets.UTF_8);
    }

    /** The text of whatever is held back (an incomplete sequence reads as U+FFFD); the decoder is empty after. */
    public String finish() {
        String rest = pending.toString(StandardCharsets.UTF_8);
        pending.reset();
        return rest;
    }

    /** True when bytes are held back waiting for the rest of a character. */
    public boolean hasPending() { return pending.size() > 0; }

    /** The length of the longest prefix that does not end inside a sequence that may still be completed. */
    private static int completePrefix(byte[] b) {
        int n = b.length;
        // A character is at most 4 bytes: only the last 3 can belong to an unfinished one.
        for (int back = 1; back <= Math.min(3, n); back++) {
            int lead = b[n - back] & 0xFF;
            if ((lead & 0xC0) == 0x80) continue; // continuation byte: look further back
            int need = lead >= 0xF0 && lead <= 0xF4 ? 4 : lead >= 0xE0 && lead <= 0xEF ? 3 : lead >= 0xC2 && lead <= 0xDF ? 2 : 1;
            return need > back ? n - back : n;
        }
        return n;
    }
}
