package dev.offload.ops.gemm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** What the host CPU can do, for CPU OpenCL drivers that compile kernels for the host (PoCL). */
final class HostCpu {
    private HostCpu() {}

    private static final boolean AVX512_VNNI = readFlag("avx512_vnni");

    /** Whether the CPU reports AVX512-VNNI (Linux /proc/cpuinfo; false where that cannot be read). */
    static boolean hasAvx512Vnni() { return AVX512_VNNI; }

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
