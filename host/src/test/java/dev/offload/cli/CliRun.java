package dev.offload.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** One in-process run of the {@code offload} command line, as the command tests drive it: exit code and both streams. */
public record CliRun(int exit, String out, String err) {

    public static CliRun of(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        var cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new CliRun(exit, out.toString(), err.toString());
    }
}
