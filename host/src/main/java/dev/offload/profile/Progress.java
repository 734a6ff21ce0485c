package dev.offload.profile;

import java.io.PrintStream;

/** Progress on stderr: a redrawn bar on a terminal, a line per step otherwise (logs, CI). */
public final class Progress {
    private final PrintStream err;
    private final boolean terminal;
    private final String what;
    private final int total;

    public Progress(PrintStream err, String what, int total) {
        this.err = err;
        this.terminal = System.console() != null;
        this.what = what;
        this.total = total;
    }

    public void step(int done, String detail) {
        if (terminal) {
            int width = 30, filled = total == 0 ? width : done * width / total;
            err.print("\r" + what + " [" + "#".repeat(filled) + " ".repeat(width - filled) + "] " + done + "/" + total + "  " + detail + "   ");
            if (done == total) err.println();
        } else {
            err.println(what + " " + done + "/" + total + "  " + detail);
        }
        err.flush();
    }
}
