package dev.offload.bitstream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offload.cl.Binding;
import dev.offload.cl.Buffer;
import dev.offload.cl.Device;
import dev.offload.cl.Event;
import dev.offload.cl.Kernel;
import dev.offload.cl.Program;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.kernels.KernelFamily;
import dev.offload.kernels.KernelSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stored binaries on PoCL: they compute what source builds compute, and a damaged or foreign one never loads. */
class BitstreamStoreTest {
    private static Device device;
    private static OpenClDevice fromSource;
    private static BitstreamManifest goodManifest;
    private static byte[] goodBinary;

    @BeforeAll
    static void buildOnce() {
        device = DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow();
        fromSource = new OpenClDevice(device);
        KernelSource smoke = KernelSource.load(KernelFamily.SMOKE);
        String stem = BitstreamStore.stem("smoke", DeviceTarget.of(device), BitstreamStore.optionsSha256(""));
        ProgramBinaries.Compiled c = ProgramBinaries.compile(fromSource, smoke, "", stem);
        c.program().close();
        goodManifest = c.manifest();
        goodBinary = c.binary();
    }

    @AfterAll
    static void close() { fromSource.close(); }

    /** A store holding the good entry, after {@code edit} changed its manifest JSON. */
    private static Path storeWith(Path dir, Consumer<ObjectNode> edit) throws IOException {
        Path manifest = new BitstreamStore(dir).put(goodManifest, goodBinary);
        ObjectMapper json = new ObjectMapper();
        ObjectNode m = (ObjectNode) json.readTree(manifest.toFile());
        edit.accept(m);
        json.writeValue(manifest.toFile(), m);
        return manifest;
    }

    private static OpenClDevice deviceUsing(Path store, Path cache) {
        OpenClDevice d = new OpenClDevice(device);
        new ProgramStore(store, cache).install(d);
        return d;
    }

    static float[] saxpy(OpenClDevice d, Program p, float a, float[] x, float[] y) {
        try (Buffer bx = d.upload(x); Buffer by = d.upload(y); Kernel k = p.kernel("saxpy")) {
            k.arg(0, a).arg(1, bx).arg(2, by).arg(3, x.length);
            try (Event e = d.queue().launch(k, new long[] {x.length}, null)) {
                e.times();
            }
            return d.readFloats(by, x.length);
        }
    }

    static float[] randomFloats(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = Float.intBitsToFloat(r.nextInt(0x7F000000) + 0x00800000) * (r.nextBoolean() ? 1 : -1);
        return v;
    }

    @Test
    void aStoredBinaryComputesBitIdenticalResultsToTheSourceBuild(@TempDir Path store) throws IOException {
        storeWith(store, m -> {});
        Random r = new Random(42);
        int n = 10_007;
        float[] x = randomFloats(r, n), y = randomFloats(r, n);
        float a = -1.7f;
        float[] want = saxpy(fromSource, fromSource.program(KernelFamily.SMOKE, ""), a, x, y);
        try (OpenClDevice d = deviceUsing(store, null)) {
            float[] got = saxpy(d, d.program(KernelFamily.SMOKE, ""), a, x, y);
            BitstreamProgramSource src = (BitstreamProgramSource) d.programSource();
            assertEquals(ProgramOrigin.STORE, src.builds().getFirst().origin());
            assertEquals(store.resolve(goodManifest.binary().file()), src.builds().getFirst().file());
            assertArrayEquals(bits(want), bits(got));
        }
        for (int i = 0; i < n; i++) assertEquals(Float.floatToIntBits(Math.fma(a, x[i], y[i])), Float.floatToIntBits(want[i]));
    }

    private static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) b[i] = Float.floatToRawIntBits(v[i]);
        return b;
    }

    @Test
    void theManifestRecordsKernelSignaturesThatTheLoadedBinaryStillReports() {
        BitstreamManifest.KernelEntry saxpy = goodManifest.kernel("saxpy");
        assertEquals("saxpy(float, global float*, global float*, int)", ProgramBinaries.signature(saxpy));
        assertEquals(KernelSource.load(KernelFamily.SMOKE).sha256(), goodManifest.sourceSha256());
        assertEquals(goodBinary.length, goodManifest.binary().sizeBytes());
        assertTrue(goodManifest.builtBy().startsWith("offload ") && goodManifest.builtBy().endsWith(" via panama"));
        try (Program p = fromSource.context().loadBinary(goodBinary, goodManifest.compilerOptions())) {
            BitstreamManifest.KernelEntry loaded = ProgramBinaries.describeKernels(p).getFirst();
            assertNotNull(loaded.args(), "a binary built with -cl-kernel-arg-info keeps its argument info");
            assertEquals(saxpy, loaded);
        }
    }

    @Test
    void aCorruptedByteInTheBinaryIsRefusedByItsChecksum(@TempDir Path store) throws IOException {
        storeWith(store, m -> {});
        Path bin = store.resolve(goodManifest.binary().file());
        byte[] b = Files.readAllBytes(bin);
        b[b.length / 2] ^= 0x01;
        Files.write(bin, b);
        assertRefused(store, "checksum sha256");
    }

    @Test
    void aBinaryFromAnOlderSourceIsRefused(@TempDir Path store) throws IOException {
        storeWith(store, m -> m.put("sourceSha256", "0".repeat(64)));
        assertRefused(store, "source hash 000000000000 differs from the current smoke.cl");
    }

    @Test
    void aBinaryForAnotherDriverVersionIsRefused(@TempDir Path store) throws IOException {
        storeWith(store, m -> ((ObjectNode) m.get("target")).put("driverVersion", "0.9-other"));
        assertRefused(store, "driver version: built with driver '0.9-other', this device runs '" + device.info().driverVersion() + "'");
    }

    @Test
    void aBinaryLackingAKernelTheRuntimeNeedsIsRefused(@TempDir Path store) throws IOException {
        storeWith(store, m -> ((ObjectNode) m.get("kernels").get(0)).put("name", "saxpy_old"));
        assertRefused(store, "missing kernel(s) [saxpy]");
    }

    @Test
    void aBinaryForAnotherDeviceIsNeverLoadedTheCpuCompilesInstead(@TempDir Path store) throws IOException {
        Path manifest = storeWith(store, m -> ((ObjectNode) m.get("target")).put("deviceName", "Other FPGA board"));
        try (OpenClDevice d = deviceUsing(store, null)) {
            d.program(KernelFamily.SMOKE, "");
            assertEquals(ProgramOrigin.COMPILED, ((BitstreamProgramSource) d.programSource()).builds().getFirst().origin());
            List<Check> checks = BitstreamVerifier.verify(BinaryFiles.read(manifest), d);
            Check target = checks.stream().filter(c -> c.name().equals("target")).findFirst().orElseThrow();
            assertEquals(Check.Verdict.FAIL, target.verdict());
            assertTrue(target.detail().contains("device name: built for 'Other FPGA board', this device is '" + device.name() + "'"),
                    target.detail());
        }
    }

    @Test
    void aSignatureThatDiffersFromTheLoadedBinaryIsRefused(@TempDir Path store) throws IOException {
        storeWith(store, m -> ((ObjectNode) m.get("kernels").get(0).get("args").get(3)).put("signature", "long"));
        assertRefused(store, "signature of saxpy: manifest says (float, global float*, global float*, long), "
                + "the binary has (float, global float*, global float*, int)");
    }

    @Test
    void whatAManifestNamesStaysInsideTheStoreIsARegularFileAndIsBounded(@TempDir Path store, @TempDir Path outside) throws Exception {
        Path secret = Files.writeString(outside.resolve("secret.bin"), "not yours");
        Path fifo = store.resolve("fifo.bin");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor(), "mkfifo");
        Files.createSymbolicLink(store.resolve("link.bin"), secret);
        try (java.io.RandomAccessFile huge = new java.io.RandomAccessFile(store.resolve("huge.bin").toFile(), "rw")) {
            huge.setLength(BinaryFiles.MAX_BINARY_BYTES + 1);   // sparse: no disk used
        }
        String[][] cases = {{"../" + outside.getFileName() + "/secret.bin", "must be a file name"}, {secret.toString(), "must be a file name"},
                {"link.bin", "not a regular file"}, {"fifo.bin", "not a regular file"}, {"huge.bin", "larger than"}};
        for (String[] c : cases) {
            Path manifest = storeWith(store, m -> ((ObjectNode) m.get("binary")).put("file", c[0]));
            long t0 = System.nanoTime();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BinaryFiles.read(manifest), c[0]);
            assertTrue(e.getMessage().contains(manifest.toString()) && e.getMessage().contains(c[1]), c[0] + ": " + e.getMessage());
            assertFalse(e.getMessage().contains("9 bytes") || e.getMessage().contains("not yours"), "leaks the outside file: " + e.getMessage());
            assertTrue(System.nanoTime() - t0 < 5_000_000_000L, c[0] + " took too long (a FIFO read would hang)");
            Files.delete(manifest);
        }
    }

    private static void assertRefused(Path store, String expected) {
        try (OpenClDevice d = deviceUsing(store, null)) {
            BitstreamMismatchException e = assertThrows(BitstreamMismatchException.class,
                    () -> d.program(KernelFamily.SMOKE, ""));
            assertTrue(e.getMessage().contains(expected), e.getMessage());
            assertTrue(e.getMessage().contains(store.resolve(goodManifest.binary().file().replace(".bin", ".json")).toString()),
                    "names the file: " + e.getMessage());
            assertTrue(e.getMessage().contains("./offload bitstreams build"), "says how to fix it: " + e.getMessage());
            assertFalse(((BitstreamProgramSource) d.programSource()).builds().stream().anyMatch(b -> true), "nothing loaded");
            List<Check> checks = BitstreamVerifier.verify(BinaryFiles.read(store.resolve(
                    goodManifest.binary().file().replace(".bin", ".json"))), d);
            assertTrue(checks.stream().anyMatch(Check::failed), "verify reports it too: " + checks);
        }
    }
}
