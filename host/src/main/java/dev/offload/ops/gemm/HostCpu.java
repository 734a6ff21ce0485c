package dev.offload.ops.gemm;

import dev.offload.device.AmxPermission;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** What the host CPU can do, for CPU OpenCL drivers that compile kernels for the host (PoCL). */
final class HostCpu {
    private HostCpu() {}

    private static final boolean AVX512_VNNI = readFlag("avx512_vnni");
    private static final boolean AMX_INT8 = readFlag("amx_tile") && readFlag("amx_int8");

    /** Whether the CPU reports AVX512-VNNI (Linux /proc/cpuinfo; false where that cannot be read). */
    static boolean hasAvx512Vnni() { return AVX512_VNNI; }

    /**
     * Whether AMX int8 tiles can run in this process: the CPU reports amx_tile and amx_int8, and Linux granted the
     * tile state ({@link AmxPermission}, asked here the first time, before any AMX kernel is built).
     */
    static boolean hasAmxInt8() { return AMX_INT8 && AmxPermission.granted(); }

    private static boolean readFlag(String flag) {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!arch.equals("amd64") && !arch.equals("x86_64")) return false;
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("flags"))
                    .findFirst()
                    .map(l -> (" " + l.substring(l.indexOf(':') + 1) + " ").contains(" " + flag + " "))
                    .orElse(false);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
