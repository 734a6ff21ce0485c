package dev.offload.cli;

import ch.qos.logback.classic.Level;
import dev.offload.cl.Binding;
import dev.offload.bitstream.ProgramStore;
import dev.offload.config.OffloadSettings;
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
        return binding == null ? OffloadSettings.current().binding() : Binding.parse(binding);
    }

    @Option(names = "--store", paramLabel = "DIR",
            description = "Bitstream store (default: $OFFLOAD_BITSTREAMS, else the checkout's bitstreams/).")
    java.nio.file.Path store;

    @Option(names = "--no-cache", description = "Neither read nor write the program cache (programs/ under $OFFLOAD_CACHE_DIR, else $XDG_CACHE_HOME/offload, else ~/.cache/offload).")
    boolean noCache;

    /** Where programs come from: the bitstream store, then the program cache, then compilation. */
    public ProgramStore programs() {
        ProgramStore p = ProgramStore.fromEnvironment();
        if (store != null) p = p.withStore(store);
        return noCache ? p.withoutCache() : p;
    }

    /** The devices, each opened with the bitstream store and program cache installed. */
    public DeviceRegistry registry() {
        ProgramStore programs = programs();
        return DeviceRegistry.discover(binding()).onOpen(programs::install);
    }

    void applyLogLevel() {
        if (verbose && LoggerFactory.getLogger("dev.offload") instanceof ch.qos.logback.classic.Logger l) {
            l.setLevel(Level.DEBUG);
        }
    }
}
