package dev.offload.io;

import dev.offload.limits.Sizes;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Reading what the user names as an input: the one wording for a path that is not a readable file (missing, a
 * directory, a device or FIFO, which would hang or never end), reads bounded by what a Java array and the heap hold,
 * and text decoded as strict UTF-8 (a malformed byte is an error, never a silent replacement character).
 */
public final class InputFile {
    private InputFile() {}

    /** Why {@code file} cannot be read as a file, or empty when it is a regular file (or a link to one). */
    public static Optional<String> problem(Path file) {
        if (Files.isRegularFile(file)) return Optional.empty();
        if (Files.isDirectory(file)) return Optional.of("is a directory, not a file");
        if (Files.exists(file)) return Optional.of("is not a regular file (a device, FIFO or socket)");
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) return Optional.of("is a link to nothing");
        return Optional.of("no such file");
    }

    /**
     * The bytes of a regular file named by {@code label} (an option and path, or a path), refused with an
     * IllegalArgumentException that starts with the label when it is not one, or larger than a Java array or the heap.
     */
    public static byte[] readBytes(String label, Path file) {
        problem(file).ifPresent(p -> {
            throw new IllegalArgumentException(label + ": " + p);
        });
        try {
            long size = Files.size(file);
            Sizes.byteArrayLength(label, size);
            Sizes.fitsHeap(label, size);
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException(label + ": cannot read (" + AtomicFile.reason(e) + ")");
        }
    }

    /** A file's text as strict UTF-8. */
    public static String readUtf8(String label, Path file) { return utf8(label, readBytes(label, file)); }

    /** A stream's text (standard input) as strict UTF-8. */
    public static String readUtf8(String label, InputStream in) {
        try {
            return utf8(label, in.readAllBytes());
        } catch (IOException e) {
            throw new IllegalArgumentException(label + ": cannot read (" + AtomicFile.reason(e) + ")");
        } catch (OutOfMemoryError e) {
            throw new IllegalArgumentException(label + ": more text than the heap holds");
        }
    }

    private static String utf8(String label, byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(in).toString();
        } catch (CharacterCodingException e) {
            // The decoder stops at the first malformed sequence.
            throw new IllegalArgumentException(label + ": not valid UTF-8 text (byte " + in.position() + ")");
        }
    }
}
