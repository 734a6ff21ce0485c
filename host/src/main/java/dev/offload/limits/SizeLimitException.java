package dev.offload.limits;

/**
 * A size that cannot be held: an element or byte count that overflows, more elements than a Java array holds, more
 * bytes than the heap or the device can allocate. The message names the thing and both numbers; an
 * IllegalArgumentException, so the command line prints it as one line with exit code 2.
 */
public final class SizeLimitException extends IllegalArgumentException {
    public SizeLimitException(String message) { super(message); }
}
