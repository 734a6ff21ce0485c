package dev.offload.bitstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.bitstream.layout.BinaryLayout;
import dev.offload.cl.Binding;
import dev.offload.cl.Device;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.kernels.KernelFamily;
import dev.offload.kernels.KernelSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Program binaries are checked for what their format allows before a driver sees them: every binary PoCL builds here
 * passes, every truncation of one fails (PoCL itself would abort the JVM on it), and so do altered length fields,
 * paths that would leave PoCL's cache folder, and damaged xclbin and ELF containers.
 */
class BinaryLayoutTest {
    private static final String POCL = BinaryLayout.POCL_PLATFORM;
    /** One real binary per kernel family, as PoCL built it with the runtime's first build option variant. */
    private static final Map<KernelFamily, byte[]> BUILT = new LinkedHashMap<>();

    @BeforeAll
    static void buildEveryFamily(@TempDir Path emptyStore) throws IOException {
        Device device = DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow();
        ProgramStore programs = ProgramStore.fromEnvironment().withStore(emptyStore);   // the suite's program cache
        try (OpenClDevice d = new OpenClDevice(device)) {
            programs.install(d);
            DeviceTarget target = DeviceTarget.of(device);
            for (KernelFamily f : KernelFamily.values()) {
                List<String> variants = BuildVariants.DEFAULT.optionsFor(f, device.info());
                if (variants.isEmpty()) continue; // a family the runtime does not use on this device (int8_gemm_tiled on a CPU)
                String options = variants.getFirst();
                d.program(f, options);
                KernelSource source = KernelSource.load(f);
                Path bin = programs.cacheDir().resolve(ProgramCache.stem(f.id(), target, source.sha256(), options) + ".bin");
                assertTrue(Files.isRegularFile(bin), f + ": the build was cached (a sound layout is a condition): " + bin);
                BUILT.put(f, Files.readAllBytes(bin));
            }
        }
    }

    private static Optional<String> pocl(byte[] b) { return BinaryLayout.problem(b, "opencl-binary", POCL); }

    @Test
    void everyBinaryPoclBuildsIsSound() {
        for (var e : BUILT.entrySet()) assertEquals(Optional.empty(), pocl(e.getValue()), e.getKey().id());
    }

    @Test
    void everyTruncationOfARealBinaryIsRefused() {
        int checked = 0;
        for (var e : BUILT.entrySet()) {
            byte[] b = e.getValue();
            List<Integer> cuts = new ArrayList<>();
            for (int n = 0; n < Math.min(512, b.length); n++) cuts.add(n);        // inside the header and first records
            for (int n = 512; n < b.length; n += 997) cuts.add(n);               // everywhere else, at a prime stride
            for (int n = Math.max(0, b.length - 64); n < b.length; n++) cuts.add(n); // the last kernel's tail
            for (int n : cuts) {
                assertTrue(pocl(Arrays.copyOf(b, n)).isPresent(), e.getKey().id() + " cut to " + n + " of " + b.length + " bytes");
                checked++;
            }
            assertTrue(pocl(Arrays.copyOf(b, b.length + 1)).orElseThrow().contains("follow the last kernel"));
        }
        assertTrue(checked > 3000, "cuts checked: " + checked);
    }

    /** The smoke binary with one little-endian field overwritten. */
    private static byte[] smokeWith(int offset, int width, long value) {
        byte[] b = BUILT.get(KernelFamily.SMOKE).clone();
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        if (width == 4) bb.putInt(offset, (int) value); else bb.putLong(offset, value);
        return b;
    }

    private static void assertRefused(byte[] b, String why) {
        String problem = pocl(b).orElseThrow(() -> new AssertionError("accepted; expected: " + why));
        assertTrue(problem.contains(why), problem);
    }

    @Test
    void lyingFieldsAndEscapingPathsAreRefused() {
        // Header: version at 16, kernel count at 20, flags at 24, root entry count at 32, build hash at 36..76, root entry size at 77.
        assertRefused(smokeWith(16, 4, 10), "format version 10");
        assertRefused(smokeWith(20, 4, 0), "kernel count 0");
        assertRefused(smokeWith(20, 4, 2), "needs");
        assertRefused(smokeWith(32, 4, 3), "root entry count 3");
        assertRefused(smokeWith(24, 8, 0x4_0000_0002L), "flags 0x400000002");      // program-scope variables (format 10)
        assertRefused(smokeWith(24, 8, 0x3_0000_0000L), "binary type");
        assertRefused(smokeWith(77, 8, -1), "root entry 0 needs");
        assertRefused(smokeWith(77, 8, 0), "root entry 0 is empty");

        byte[] hash = BUILT.get(KernelFamily.SMOKE).clone();
        byte[] escape = "../../../../tmp/x".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(escape, 0, hash, 36, escape.length);
        assertRefused(hash, "is not a cache folder name");
        byte[] unterminated = BUILT.get(KernelFamily.SMOKE).clone();
        unterminated[76] = 'A';
        assertRefused(unterminated, "not NUL-terminated");

        // The first file record: u32 path length at 85, the path "/program.bc" at 89, u32 content size, then bitcode.
        byte[] path = BUILT.get(KernelFamily.SMOKE).clone();
        System.arraycopy("/../ogram.bc".getBytes(StandardCharsets.US_ASCII), 0, path, 89, 11);
        assertEquals("/program.bc", new String(BUILT.get(KernelFamily.SMOKE), 89, 11, StandardCharsets.US_ASCII));
        assertRefused(path, "would leave PoCL's cache folder");
        byte[] bitcode = BUILT.get(KernelFamily.SMOKE).clone();
        bitcode[89 + 11 + 4] = 'X';
        assertRefused(bitcode, "is not LLVM bitcode");

        byte[] so = BUILT.get(KernelFamily.SMOKE).clone();
        int elf = indexOf(so, new byte[] {0x7F, 'E', 'L', 'F'});
        so[elf + 4] = 7;
        assertRefused(so, "ELF class 7");
        assertRefused(new byte[] {'p', 'o', 'c', 'l'}, "no poclbin magic");
        assertRefused(SyntheticBinaries.elf64(new byte[] {1, 2, 3}), "not a PoCL binary (no poclbin magic), yet its platform is PoCL");
        assertRefused(new byte[0], "empty");
    }

    private static int indexOf(byte[] b, byte[] what) {
        outer:
        for (int i = 0; i + what.length <= b.length; i++) {
            for (int j = 0; j < what.length; j++) if (b[i + j] != what[j]) continue outer;
            return i;
        }
        throw new AssertionError("not found");
    }

    @Test
    void xclbinContainersMustBeWholeAndHoldTheirSections() {
        byte[] good = SyntheticBinaries.xclbin("<project name=\"x\"/>".getBytes(StandardCharsets.US_ASCII));
        assertEquals(Optional.empty(), BinaryLayout.problem(good, "xclbin", "Xilinx"));
        for (int n : new int[] {0, 7, 100, 303, 310, 455, 470, good.length - 1}) {
            assertTrue(BinaryLayout.problem(Arrays.copyOf(good, n), "xclbin", "Xilinx").isPresent(), "cut to " + n);
        }
        assertTrue(BinaryLayout.problem(Arrays.copyOf(good, good.length - 1), "xclbin", null).orElseThrow().contains("truncated or padded"));
        ByteBuffer sectionPastTheEnd = ByteBuffer.wrap(good.clone()).order(ByteOrder.LITTLE_ENDIAN).putLong(456 + 32, good.length);
        assertTrue(BinaryLayout.problem(sectionPastTheEnd.array(), "xclbin", null).orElseThrow().contains("lies outside"));
        assertTrue(BinaryLayout.problem(SyntheticBinaries.elf64(new byte[] {1}), "xclbin", null).orElseThrow().contains("no xclbin2 magic"));
    }

    @Test
    void elfFilesMustHoldTheirHeadersAndSections() {
        byte[] good = SyntheticBinaries.elf64(new byte[100]);
        assertEquals(Optional.empty(), BinaryLayout.problem(good, "aocx", null));
        assertEquals(Optional.empty(), BinaryLayout.problem(good, "opencl-binary", "AMD Accelerated Parallel Processing"));
        for (int n = 0; n < good.length; n += 5) {
            assertTrue(BinaryLayout.problem(Arrays.copyOf(good, n), "aocx", null).isPresent(), "cut to " + n);
        }
        ByteBuffer b = ByteBuffer.wrap(good.clone()).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(good.length - 64 + 32, 1L << 40);   // the data section's size
        assertTrue(BinaryLayout.problem(b.array(), "aocx", null).orElseThrow().contains("ELF section 1"));
        // A vendor layout offload does not know gets the checksum only.
        assertEquals(Optional.empty(), BinaryLayout.problem("// PTX".getBytes(StandardCharsets.US_ASCII), "opencl-binary", "NVIDIA CUDA"));
    }
}
