package dev.offload.io;

/**
 * An output file that cannot be written: a directory, device node, FIFO or link where a file should go, the same file
 * as an input or another output, or a folder that refuses it (read-only, full, /proc). The message starts with the
 * option or path and gives the system's reason; the command line prints it as one line with exit code 2.
 */
public final class OutputFileException extends RuntimeException {
    public OutputFileException(String message) { super(message); }
}
