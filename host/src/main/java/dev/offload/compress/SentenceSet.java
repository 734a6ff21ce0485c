package dev.offload.compress;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The sentences compression is judged on: 400 King James Bible verses (public domain) and 200 modern sentences made
 * by offload, one a line in the resource {@value #RESOURCE}; docs/compress/sentences.py made the file and says how.
 */
public final class SentenceSet {
    public static final String RESOURCE = "/dev/offload/compress/sentences.txt";

    private SentenceSet() {}

    public static List<String> builtIn() {
        try (InputStream in = SentenceSet.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException(RESOURCE + " is missing from the class path");
            return lines(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Non-blank lines, stripped. */
    public static List<String> lines(String text) {
        return text.lines().map(String::strip).filter(s -> !s.isEmpty()).toList();
    }
}
