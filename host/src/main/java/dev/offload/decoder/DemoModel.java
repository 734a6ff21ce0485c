package dev.offload.decoder;

import dev.offload.config.CacheDirs;
import dev.offload.hash.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * offload's own small decoder, shipped inside the jar so {@code generate} has something real to run on a fresh
 * machine: a 4-layer Llama-architecture model trained on the King James Bible by the recipe in docs/demo-model
 * (public-domain text; the recipe, its command and its loss curve are there). GGUF files are memory-mapped, so the
 * classpath resource is copied once into the cache ({@link CacheDirs#models()}): written to a
 * temporary file, checked against the SHA-256 the recipe recorded in {@code SHA256SUMS}, then renamed into place. A
 * cached copy whose hash does not match (a retrained model, a damaged file) is replaced the same way.
 */
public final class DemoModel {
    /** What {@code generate} says on stderr when it runs the demo model. */
    public static final String NOTICE = "offload's demo model, trained on the King James Bible; bring a GGUF for real work";
    static final String RESOURCES = "/dev/offload/demo/";
    /** The held-out book the recipe wrote beside the files (Colossians, never trained on; 3000 tokens): what perplexity comparisons score. */
    public static final String HELD_OUT_EXCERPT = "held-out-colossians.txt";

    /** The three encodings the recipe writes. */
    public enum Variant {
        F32, Q8_0, Q4_0;

        /** The file name, in the resources and in the cache. */
        public String fileName() { return "offload-demo-kjv-" + name().toLowerCase(Locale.ROOT) + ".gguf"; }
    }

    private DemoModel() {}

    /** The Q8_0 file (the default of {@code generate}), extracted into {@code cache} if it is not there yet. */
    public static Path resolve(CacheDirs cache) { return resolve(cache, Variant.Q8_0); }

    /** {@code variant}'s file, extracted into {@code cache} if it is not there yet (or not intact). */
    public static Path resolve(CacheDirs cache, Variant variant) {
        String want = expectedSha256(variant);
        Path dir = cache.models(), file = dir.resolve(variant.fileName());
        try {
            if (Files.isRegularFile(file) && Sha256.of(Files.readAllBytes(file)).equals(want)) return file;
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, variant.fileName(), ".tmp");
            try {
                try (InputStream in = resource(variant.fileName())) {
                    Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                }
                String got = Sha256.of(Files.readAllBytes(tmp));
                if (!got.equals(want)) {
                    throw new IllegalStateException("the demo model resource " + variant.fileName() + " has SHA-256 " + got
                            + ", SHA256SUMS says " + want + ": the jar is damaged");
                }
                // Another process may have put the same bytes there meanwhile: replacing them is harmless.
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot put the demo model into " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The text of {@link #HELD_OUT_EXCERPT}. */
    public static String heldOutExcerpt() {
        try (InputStream in = resource(HELD_OUT_EXCERPT)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The SHA-256 the recipe recorded for {@code variant} in the resources' SHA256SUMS. */
    static String expectedSha256(Variant variant) {
        String sum = sums().get(variant.fileName());
        if (sum == null) throw new IllegalStateException("SHA256SUMS in " + RESOURCES + " has no line for " + variant.fileName());
        return sum;
    }

    /** SHA256SUMS as sha256sum writes it: "HEX  NAME" a line. */
    static Map<String, String> sums() {
        Map<String, String> sums = new HashMap<>();
        try (InputStream in = resource("SHA256SUMS")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String[] parts = line.strip().split("\\s+\\*?", 2);
                if (parts.length == 2) sums.put(parts[1], parts[0].toLowerCase(Locale.ROOT));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return sums;
    }

    private static InputStream resource(String name) {
        InputStream in = DemoModel.class.getResourceAsStream(RESOURCES + name);
        if (in == null) throw new IllegalStateException("the demo model resource " + RESOURCES + name + " is missing from the classpath");
        return in;
    }
}
