package dev.offload.tensor;

/** A .npy file that cannot be used; the message names the file and the problem. */
public final class NpyException extends RuntimeException {
    public NpyException(String message) { super(message); }
}
