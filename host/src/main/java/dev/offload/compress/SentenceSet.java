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

    /** How many sentences {@link #calibration} holds. */
    public static final int CALIBRATION_SENTENCES = 64;

    /**
     * The sentences activation-based importance is measured on ({@link HeadImportance#ACTIVATION}): the built-in
     * set's last {@value #CALIBRATION_SENTENCES} (offload's own modern sentences). A report that uses the built-in set
     * after calibrating on it is measured over {@link #evaluation}, so no sentence both chooses and judges.
     */
    public static List<String> calibration() {
        List<String> all = builtIn();
        return all.subList(all.size() - CALIBRATION_SENTENCES, all.size());
    }

    /** The built-in set without the {@link #calibration} sentences. */
    public static List<String> evaluation() {
        List<String> all = builtIn();
        return all.subList(0, all.size() - CALIBRATION_SENTENCES);
    }

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
