package dev.offload.bench;

import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * Opens a peer (ONNX Runtime, CLBlast, ...) that may be missing on this machine: a peer that fails to load is a
 * printed note, never a failed bench (CI runs {@code bench --quick}).
 */
final class Peer {
    private Peer() {}

    static <T> Optional<T> open(String what, Callable<T> opener) {
        try {
            return Optional.of(opener.call());
        } catch (Exception | LinkageError e) {
            note(what + " did not load (" + rootMessage(e) + "); its rows are left out");
            return Optional.empty();
        }
    }

    static void note(String text) {
        System.err.println("bench: note: " + text);
    }

    static String rootMessage(Throwable e) {
        while (e.getCause() != null && e.getCause() != e) e = e.getCause();
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
