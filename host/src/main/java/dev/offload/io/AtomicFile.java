package dev.offload.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The one way offload writes a file: into a temporary file beside it, renamed over it when complete, so that a reader
 * never sees half a file, a failure (a full disk, a killed process) leaves the old file or none, and no temporary file
 * is left behind. Only a regular file, or a path where nothing is yet, is ever replaced: renaming over a device node
 * such as {@code /dev/full} as root would replace the device with a file. A failure is an {@link OutputFileException}
 * naming the file and the system's reason.
 */
public final class AtomicFile {
    private AtomicFile() {}

    /** What goes into the file, written to a buffered stream. */
    @FunctionalInterface
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    public static void write(Path file, byte[] bytes) { write(file, out -> out.write(bytes)); }

    public static void write(Path file, Content content) {
        refuseSpecial(file);
        Path parent = file.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(parent);
            tmp = createIn(parent, "." + file.getFileName() + ".");
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
                content.writeTo(out);
            }
            refuseSpecial(file);   // it may have appeared meanwhile
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new OutputFileException(file + ": cannot write (" + reason(e) + ")");
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // The write failed and says so; a temporary file that cannot be removed is all that is left.
                }
            }
        }
    }

    /**
     * A new empty file in {@code folder}. A folder that exists but refuses every new name (procfs and sysfs answer
     * ENOENT) is said to be that, not "no such file".
     */
    static Path createIn(Path folder, String prefix) throws IOException {
        try {
            return Files.createTempFile(folder, prefix, ".tmp");
        } catch (NoSuchFileException e) {
            if (!Files.isDirectory(folder)) throw e;
            throw new FileSystemException(folder.toString(), null, "the folder does not accept new files (No such file or directory)");
        }
    }

    private static void refuseSpecial(Path file) {
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new OutputFileException(file + ": cannot write: it exists and is not a regular file "
                    + (Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS) ? "(a directory)" : "(a link, device or FIFO)"));
        }
    }

    /**
     * The system's reason in words. Java's file exceptions often carry only a path (ENOENT and EACCES become
     * NoSuchFileException and AccessDeniedException with no text), which for a folder such as {@code /proc}, where
     * every file name is refused, says nothing useful.
     */
    static String reason(IOException e) {
        if (e instanceof FileSystemException f) {
            String why = f.getReason() != null ? f.getReason() : switch (f) {
                case NoSuchFileException n -> "No such file or directory";
                case AccessDeniedException a -> "Permission denied";
                case NotDirectoryException n -> "Not a directory";
                default -> f.getClass().getSimpleName();
            };
            return f.getFile() == null ? why : f.getFile() + ": " + why;
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
