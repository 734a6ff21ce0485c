package dev.offload.bitstream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.cli.CliRun;
import dev.offload.device.DeviceRegistry;
import dev.offload.hash.Sha256;
import dev.offload.ops.gemm.Int8GemmReference;
import dev.offload.ops.gemm.Int8Matrix;
import dev.offload.ops.gemm.ZeroPoint;
import dev.offload.ops.quant.QuantType;
import dev.offload.tensor.Npy;
import dev.offload.tensor.NpyArray;
import dev.offload.testing.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Truncated PoCL binaries whose manifests were rewritten to match them (checksum and size agree), in a child JVM each
 * time: PoCL asserts on such a binary and aborts the process (exit 134), which is what happened before binaries were
 * checked. Now a damaged cache entry is discarded and rebuilt once with a warning and the result is right; a damaged
 * store entry is one line and exit 2; {@code bitstreams import} refuses the file.
 */
class DamagedProgramBinaryTest {
    @TempDir static Path dir;
    private static Path a, b, cache;
    private static int[] want;
    /** The good int8_gemm cache entry the first child compiled: its manifest and binary. */
    private static StoredBinary good;

    @BeforeAll
    static void compileOnce() throws IOException {
        Random r = new Random(13);
        byte[] av = new byte[37 * 29], bv = new byte[29 * 23];
        r.nextBytes(av);
        r.nextBytes(bv);
        a = dir.resolve("a.npy");
        b = dir.resolve("b.npy");
        Npy.write(a, NpyArray.ofBytes(dev.offload.tensor.DType.INT8, av, 37, 29));
        Npy.write(b, NpyArray.ofBytes(dev.offload.tensor.DType.INT8, bv, 29, 23));
        want = Int8GemmReference.matmulInteger(new Int8Matrix(QuantType.INT8, 37, 29, av), ZeroPoint.scalar(0),
                new Int8Matrix(QuantType.INT8, 29, 23, bv), ZeroPoint.scalar(0));
        cache = dir.resolve("cache");
        gemm(dir.resolve("first.npy"), null).assertSurvived();
        try (Stream<Path> f = Files.list(cache.resolve("programs"))) {
            List<Path> manifests = f.filter(p -> p.getFileName().toString().startsWith("int8_gemm-")
                    && p.getFileName().toString().endsWith(".json")).toList();
            assertEquals(1, manifests.size(), manifests.toString());
            good = BinaryFiles.read(manifests.getFirst());
        }
    }

    private static ChildJvm.Result gemm(Path out, Path store) {
        ChildJvm child = ChildJvm.in(dir).env("OFFLOAD_CACHE_DIR", cache.toString());
        return store == null
                ? child.cli("gemm-int8", "--a", a.toString(), "--b", b.toString(), "--out", out.toString(), "--device", "cl:cpu")
                : child.cli("gemm-int8", "--a", a.toString(), "--b", b.toString(), "--out", out.toString(), "--device", "cl:cpu",
                        "--store", store.toString());
    }

    /** The entry cut to {@code length} bytes, its manifest saying exactly that (sha256 and size of the short bytes). */
    private static BitstreamManifest truncatedManifest(int length, String fileName) {
        BitstreamManifest m = good.manifest();
        byte[] cut = Arrays.copyOf(good.binary(), length);
        return new BitstreamManifest(m.schema(), m.family(), m.familyVersion(), m.sourceSha256(), m.options(), m.optionsSha256(),
                m.compilerOptions(), m.target(), new BitstreamManifest.BinaryFile(fileName, Sha256.of(cut), cut.length,
                m.binary().format()), m.kernels(), m.builtBy(), m.builtAt());
    }

    @Test
    void aTruncatedCacheEntryIsDiscardedAndRebuiltOnceAndTheResultIsRight() throws IOException {
        int whole = good.binary().length;
        for (int length : new int[] {60, 200, whole / 2, whole - 1}) {
            BitstreamManifest m = truncatedManifest(length, good.manifest().binary().file());
            BinaryFiles.write(good.manifestFile(), m, Arrays.copyOf(good.binary(), length));
            Path out = dir.resolve("c-" + length + ".npy");
            ChildJvm.Result r = gemm(out, null).assertSurvived();
            assertEquals(0, r.exit(), r.err());
            assertTrue(r.err().contains("program cache entry " + good.manifestFile() + " is damaged (layout "), r.err());
            assertTrue(r.err().contains("discarding it and compiling again"), r.err());
            assertArrayEquals(want, Npy.read(out).toIntArray(), "cut to " + length);
            assertEquals(whole, Files.size(good.binaryFile()), "the entry was rebuilt whole");
        }
        ChildJvm.Result again = gemm(dir.resolve("again.npy"), null).assertSurvived();
        assertEquals(0, again.exit(), again.err());
        assertFalse(again.err().contains("damaged") || again.err().contains("compiling"), "the rebuilt entry loads quietly:\n" + again.err());
    }

    @Test
    void aTruncatedStoreEntryIsOneLineAndExitCode2AndNothingIsWritten() {
        Path store = dir.resolve("store");
        String stem = BitstreamStore.stem("int8_gemm", good.manifest().target(), good.manifest().optionsSha256());
        new BitstreamStore(store).put(truncatedManifest(good.binary().length - 100, stem + ".bin"),
                Arrays.copyOf(good.binary(), good.binary().length - 100));
        Path out = dir.resolve("from-store.npy");
        gemm(out, store).assertOneLineError("bitstream " + store.resolve(stem + ".json"), "layout ", "does not fit");
        assertFalse(Files.exists(out));
    }

    @Test
    void importRefusesATruncatedBinaryAndStoresNothing() throws IOException {
        Path file = dir.resolve("truncated.bin");
        Files.write(file, Arrays.copyOf(good.binary(), good.binary().length / 3));
        Path store = dir.resolve("import-store");
        var device = DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow();
        CliRun r = CliRun.of("bitstreams", "import", file.toString(), "--device-name", device.name(),
                "--platform", device.platform().name(), "--family", "int8_gemm", "--kernels", "int8_gemm,int8_gemm_row_sums",
                "--store", store.toString());
        assertEquals(2, r.exit(), r.out() + r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("offload: " + file + " is not a sound opencl-binary file (at byte "), r.err());
        assertTrue(r.err().contains("nothing imported"), r.err());
        assertFalse(Files.exists(store) && new BitstreamStore(store).entries().size() > 0, "nothing was stored");
    }
}
