package dev.offload.server;

import dev.offload.cli.Main;
import picocli.CommandLine;

/**
 * The offload command line with {@code serve} added: the launcher runs this jar for {@code ./offload serve}, so the
 * core CLI (host) does not carry an HTTP server. Every other command works here as in the core jar.
 */
public final class ServerMain {
    private ServerMain() {}

    /** The core command line plus {@code serve}, with the core's error handling (a bad input: one line, exit code 2). */
    public static CommandLine commandLine() {
        CommandLine cl = Main.commandLine();
        cl.addSubcommand("serve", new ServeCommand());
        // Handlers reach the subcommands present when they are set: set the core's again so that serve has it too.
        cl.setExecutionExceptionHandler(cl.getExecutionExceptionHandler());
        return cl;
    }

    public static void main(String[] args) {
        int exit = commandLine().execute(args);
        if (exit != 0 || args.length == 0 || !args[0].equals("serve")) System.exit(exit);
    }
}
