package dev.offload.cli;

/** A problem with what the user asked for (a file, a shape, a device): printed as one line, exit code 2. */
public final class UserError extends RuntimeException {
    public UserError(String message) { super(message); }
}
