package dev.offload.device;

import dev.offload.cl.OpenCl;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Whether this JVM runs with its signal-chaining library, which PoCL needs. PoCL's compiler (LLVM) installs its crash
 * handlers for SIGSEGV, SIGBUS, SIGFPE and SIGILL over the JVM's, with SA_RESETHAND, when PoCL starts and when it
 * compiles. The JVM takes SIGSEGV on purpose (safepoint polls, implicit null checks): the first such fault runs LLVM's
 * handler and resets SIGSEGV to the default action, and a second thread polling at the same safepoint then kills the
 * process (exit 139, no hs_err file). {@code LD_PRELOAD=$JAVA_HOME/lib/libjsig.so} keeps the JVM's handlers installed
 * and calls LLVM's behind them, only for faults that are not the JVM's; ./offload and the test JVMs set it.
 */
final class JvmSignalChaining {
    static final String HINT = "run java with LD_PRELOAD=" + Path.of(System.getProperty("java.home"), "lib", "libjsig.so")
            + " (the JVM's signal chaining), as ./offload does: PoCL's LLVM replaces the JVM's SIGSEGV handler, and the"
            + " JVM can then die at a safepoint (exit 139, no hs_err file)";

    private JvmSignalChaining() {}

    /** True when one of the platforms is PoCL and libjsig is not loaded into this (Linux) process. */
    static boolean missingFor(OpenCl cl) {
        boolean pocl = cl.platforms().stream().anyMatch(p -> p.name().contains("Portable Computing Language"));
        return pocl && !loaded();
    }

    /** Whether libjsig is mapped into this process; true where /proc/self/maps cannot be read (not Linux). */
    static boolean loaded() {
        Path maps = Path.of("/proc/self/maps");
        if (!Files.isReadable(maps)) return true;
        try (Stream<String> lines = Files.lines(maps)) {
            return lines.anyMatch(l -> l.endsWith("/libjsig.so"));
        } catch (IOException | java.io.UncheckedIOException e) {
            return true;
        }
    }
}
