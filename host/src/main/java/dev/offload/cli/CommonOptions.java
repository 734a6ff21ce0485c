package dev.offload.cli;

import ch.qos.logback.classic.Level;
import dev.offload.cl.Binding;
import dev.offload.device.DeviceRegistry;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/** Options every command takes: which OpenCL binding, and how much to log. */
public final class CommonOptions {
    @Option(names = "--binding", paramLabel = "panama|jocl",
            description = "OpenCL binding (default: $OFFLOAD_BINDING, else panama).")
    String binding;

    @Option(names = {"-v", "--verbose"}, description = "Log what happens: device choice, program builds, kernel launches.")
    boolean verbose;

    public Binding binding() {
        applyLogLevel();
        return binding == null ? Binding.fromEnvironment() : Binding.parse(binding);
    }

    public DeviceRegistry registry() { return DeviceRegistry.discover(binding()); }

    void applyLogLevel() {
        if (verbose && LoggerFactory.getLogger("dev.offload") instanceof ch.qos.logback.classic.Logger l) {
            l.setLevel(Level.DEBUG);
        }
    }
}
