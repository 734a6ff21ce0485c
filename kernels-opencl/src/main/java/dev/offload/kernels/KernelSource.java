package dev.offload.kernels;

import dev.offload.hash.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The OpenCL C text of one kernel family, with the SHA-256 that caches and manifests key on. */
public record KernelSource(KernelFamily family, String text, String sha256) {

    /** {@code #include "name.clh"} on a line of its own: a shared piece of kernel code from this folder. */
    private static final Pattern INCLUDE = Pattern.compile("(?m)^#include \"([a-z0-9_]+\\.clh)\"[ \\t]*$");

    /**
     * Reads {@code dev/offload/kernels/<family>.cl} from the class path, with its {@code #include "x.clh"} lines
     * replaced by those files (a program is built from one string, so the compiler has no folder to look in).
     * A piece may include others; each is spliced in at its first include only (the later lines are dropped), so a
     * family and a shared piece can both name offload.clh. The hash covers the text as built.
     */
    public static KernelSource load(KernelFamily family) {
        String built = splice(read(family.id() + ".cl"), new java.util.HashSet<>());
        return new KernelSource(family, built, sha256(built));
    }

    private static String splice(String text, java.util.Set<String> included) {
        Matcher m = INCLUDE.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String piece = included.add(m.group(1)) ? splice(read(m.group(1)), included) : "";
            m.appendReplacement(out, Matcher.quoteReplacement(piece));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String read(String name) {
        String path = "/dev/offload/kernels/" + name;
        try (InputStream in = KernelSource.class.getResourceAsStream(path)) {
            if (in == null) throw new IllegalStateException("kernel source " + path + " is missing from the jar");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read kernel source " + path, e);
        }
    }

    public static String sha256(String text) { return Sha256.of(text); }
}
