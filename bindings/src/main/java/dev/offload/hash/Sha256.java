package dev.offload.hash;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Lower-case hex SHA-256 of bytes or UTF-8 text: the checksums manifests hold, the keys caches use, kernel source
 * hashes and device ids. It lives in the base module so that every module hashes the same way.
 */
public final class Sha256 {
    private Sha256() {}

    public static String of(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    public static String of(String text) { return of(text.getBytes(StandardCharsets.UTF_8)); }
}
