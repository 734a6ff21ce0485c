package dev.offload.device;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.cl.Program;
import dev.offload.testing.CpuDeviceFixture;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * PoCL's compiler (LLVM) installs its own crash handlers for SIGSEGV, SIGBUS, SIGFPE and SIGILL, with SA_RESETHAND,
 * when PoCL starts and whenever it compiles. The JVM takes SIGSEGV on purpose (safepoint polls, implicit null checks):
 * with LLVM's handler in place the first such fault resets SIGSEGV to the default action, and a second thread polling
 * at the same safepoint kills the process (exit 139, no hs_err file). The JVM's signal-chaining library
 * (LD_PRELOAD=$JAVA_HOME/lib/libjsig.so, set for the test JVM in the root pom and by ./offload) keeps the JVM's
 * handlers installed and calls LLVM's only for faults that are not the JVM's. This test fails without it.
 */
class JvmSignalHandlersTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();

    private static final Map<String, Integer> SIGNALS = Map.of("SIGILL", 4, "SIGFPE", 8, "SIGBUS", 7, "SIGSEGV", 11);
    private static final long SYS_RT_SIGACTION = 13;   // x86-64

    @Test
    void compilingWithPoclLeavesTheJvmsHandlersInstalled() throws Throwable {
        // A source no cache holds, so that PoCL runs clang/LLVM now (which registers LLVM's handlers).
        String source = "__kernel void signal_probe_" + System.nanoTime() + "(__global int* x) { x[get_global_id(0)] += 1; }";
        try (Program ignored = CL.device().context().buildProgram(source, "")) {
            for (var signal : SIGNALS.entrySet()) {
                String owner = handlerLibrary(signal.getValue());
                assertTrue(owner.endsWith("libjvm.so"), signal.getKey() + " handler is in " + owner
                        + ", not libjvm.so: run the JVM with LD_PRELOAD=$JAVA_HOME/lib/libjsig.so");
            }
        }
    }

    @Test
    void registryFindsTheChainingLibraryItWarnsAbout() {
        assertTrue(JvmSignalChaining.loaded(), "libjsig is preloaded into the test JVM (root pom), so it must be found");
        assertFalse(JvmSignalChaining.missingFor(DeviceRegistry.discover(Binding.PANAMA).openCl().orElseThrow()));
    }

    /**
     * The file of the library whose function the kernel calls for {@code signal}, read with the raw rt_sigaction
     * system call: libc's sigaction would be answered by libjsig, which reports the chained (LLVM's) handler.
     */
    private static String handlerLibrary(int signal) throws Throwable {
        if (!"amd64".equals(System.getProperty("os.arch")) || !"Linux".equals(System.getProperty("os.name"))) return "libjvm.so";
        Linker linker = Linker.nativeLinker();
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup libc = SymbolLookup.libraryLookup("libc.so.6", arena);
            MethodHandle syscall = linker.downcallHandle(libc.find("syscall").orElseThrow(),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG),
                    Linker.Option.firstVariadicArg(1));
            MethodHandle dladdr = linker.downcallHandle(libc.find("dladdr").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
            MemorySegment action = arena.allocate(32);   // kernel sigaction: handler, flags, restorer, mask
            long rc = (long) syscall.invokeExact(SYS_RT_SIGACTION, (long) signal, MemorySegment.NULL, action, 8L);
            if (rc != 0) return "(rt_sigaction failed: " + rc + ")";
            long handler = action.get(JAVA_LONG, 0);
            if (handler == 0 || handler == 1) return handler == 0 ? "SIG_DFL" : "SIG_IGN";
            MemorySegment info = arena.allocate(32);     // Dl_info: file name, base, symbol name, symbol address
            int found = (int) dladdr.invokeExact(MemorySegment.ofAddress(handler), info);
            if (found == 0) return "(unknown, 0x" + Long.toHexString(handler) + ")";
            return info.get(ADDRESS, 0).reinterpret(4096).getString(0);
        }
    }
}
