package dev.offload.kernels;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** The OpenCL C text of one kernel family, with the SHA-256 that caches and manifests key on. */
public record KernelSource(KernelFamily family, String text, String sha256) {

    /** Reads {@code dev/offload/kernels/<family>.cl} from the class path. */
    public static KernelSource load(KernelFamily family) {
        String path = "/dev/offload/kernels/" + family.id() + ".cl";
        try (InputStream in = KernelSource.class.getResourceAsStream(path)) {
            if (in == null) throw new IllegalStateException("kernel source " + path + " is missing from the jar");
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return new KernelSource(family, text, sha256(text));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read kernel source " + path, e);
        }
    }

    public static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(
                    MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
