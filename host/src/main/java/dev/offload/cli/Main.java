package dev.offload.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code offload} command line: one subcommand per job. */
@Command(name = "offload",
        mixinStandardHelpOptions = true,
        version = "offload 0.1.0",
        description = "Quantized neural-network inference on OpenCL devices (FPGA, GPU, CPU) from Java.",
        subcommands = {
                DevicesCommand.class,
                RunCommand.class,
                AttentionCommand.class,
                ValidateCommand.class,
                ProfileCommand.class,
                GemmInt8Command.class,
                SpmmCommand.class,
                BitstreamsCommand.class,
                TuneCommand.class,
                TokenizeCommand.class,
                GenerateCommand.class,
                PerplexityCommand.class,
                CompressCommand.class,
                CommandLine.HelpCommand.class,
        })
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Builds the command line with offload's error handling: a bad input is one line on stderr and exit code 2. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            if (ex instanceof UserError || ex instanceof IllegalArgumentException
                    || ex instanceof dev.offload.tensor.NpyException
                    || ex instanceof dev.offload.io.OutputFileException
                    || ex instanceof dev.offload.bitstream.BitstreamMismatchException
                    || ex instanceof dev.offload.bitstream.BitstreamMissingException) {
                cmd.getErr().println("offload: " + ex.getMessage());
                return 2;
            }
            throw ex;
        });
        return cl;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
