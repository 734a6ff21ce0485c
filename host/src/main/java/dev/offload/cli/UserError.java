package dev.offload.cli;

/** A problem with what the user asked for (a file, a shape, a device): printed as one line, exit code 2. */
public final class UserError extends RuntimeException {
    public UserError(String message) { super(message); }

    /**
     * {@code e}'s message about {@code file}: prefixed with the file, unless the message already begins with it (a
     * {@code GgufFormatException} names its file itself), so the line names the file once.
     */
    public static UserError about(Object file, RuntimeException e) {
        String f = String.valueOf(file), m = String.valueOf(e.getMessage());
        return new UserError(m.startsWith(f + ": ") ? m : f + ": " + m);
    }
}
