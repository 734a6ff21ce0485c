package dev.offload.device;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;
import org.slf4j.LoggerFactory;

/**
 * Linux's permission for this process to use Intel AMX tiles. The tile registers are 8 KiB of extra thread state,
 * which Linux (5.16 and later) hands out only on request: until a process calls
 * {@code arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)} every tile instruction raises SIGILL. The permission
 * covers all threads of the process, PoCL's worker threads included, so one call before the first AMX kernel is
 * enough (docs/amx.md). Asked once, on first use.
 */
public final class AmxPermission {
    private static final long SYS_ARCH_PRCTL = 158;          // x86-64
    private static final long ARCH_REQ_XCOMP_PERM = 0x1023;
    private static final long XFEATURE_XTILEDATA = 18;

    private AmxPermission() {}

    private static final class Once {
        static final boolean GRANTED = request();
    }

    /** Whether this process may use AMX tiles (false off x86-64 Linux, or where the kernel refused). */
    public static boolean granted() { return Once.GRANTED; }

    private static boolean request() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) return false;
        try {
            Linker linker = Linker.nativeLinker();
            MemorySegment syscall = linker.defaultLookup().find("syscall").orElse(null);
            if (syscall == null) return false;
            MethodHandle call = linker.downcallHandle(syscall,
                    FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG),
                    Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
                long result = (long) call.invokeExact(state, SYS_ARCH_PRCTL, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA);
                if (result == 0) return true;
                int errno = (int) Linker.Option.captureStateLayout().varHandle(MemoryLayout.PathElement.groupElement("errno"))
                        .get(state, 0L);
                LoggerFactory.getLogger(AmxPermission.class).info("Linux refused AMX tiles (arch_prctl errno {}): the int8 GEMM uses VNNI", errno);
                return false;
            }
        } catch (Throwable e) { // no native access (--enable-native-access), or no such symbol
            LoggerFactory.getLogger(AmxPermission.class).info("cannot ask Linux for AMX tiles ({}): the int8 GEMM uses VNNI", e.toString());
            return false;
        }
    }
}
