package dev.offload.bitstream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.ops.gemm.Int8GemmReference;
import dev.offload.ops.gemm.Int8Matrix;
import dev.offload.ops.gemm.ZeroPoint;
import dev.offload.ops.quant.QuantType;
import dev.offload.tensor.DType;
import dev.offload.tensor.Npy;
import dev.offload.tensor.NpyArray;
import dev.offload.testing.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several processes on one program cache and one bitstream store at once: each compiles (or loads) and writes the same
 * entries concurrently, every one gets the right result, and what is left is whole (every manifest reads back, its
 * binary passes its checksum and layout, no temporary file), so that the next process loads it without compiling.
 */
class SharedProgramCacheTest {
    private static final int PROCESSES = 3;
    @TempDir Path dir;

    private static List<ChildJvm.Result> atOnce(IntFunction<ChildJvm.Result> process) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(PROCESSES);
        try {
            List<Future<ChildJvm.Result>> running = new ArrayList<>();
            for (int i = 0; i < PROCESSES; i++) {
                int p = i;
                running.add(pool.submit(() -> process.apply(p)));
            }
            List<ChildJvm.Result> out = new ArrayList<>();
            for (Future<ChildJvm.Result> f : running) out.add(f.get().assertSurvived());
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Every manifest of the folder reads back and its binary passes checksum and layout; no temporary file is left. */
    private static void assertWhole(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            List<Path> all = files.toList();
            assertEquals(List.of(), all.stream().filter(p -> p.getFileName().toString().endsWith(".tmp")).toList(), "temporary files left");
            List<Path> manifests = all.stream().filter(p -> p.getFileName().toString().endsWith(".json")).toList();
            assertFalse(manifests.isEmpty(), "something was written to " + folder);
            for (Path m : manifests) {
                StoredBinary e = BinaryFiles.read(m);
                assertFalse(BitstreamChecks.checksum(e).failed(), m + ": " + BitstreamChecks.checksum(e));
                assertFalse(BitstreamChecks.layout(e).failed(), m + ": " + BitstreamChecks.layout(e));
            }
        }
    }

    @Test
    void processesSharingOneProgramCacheAllGetTheRightResultAndLeaveItWhole() throws Exception {
        Random r = new Random(21);
        byte[] av = new byte[33 * 17], bv = new byte[17 * 9];
        r.nextBytes(av);
        r.nextBytes(bv);
        Path a = dir.resolve("a.npy"), b = dir.resolve("b.npy"), cache = dir.resolve("cache");
        Npy.write(a, NpyArray.ofBytes(DType.INT8, av, 33, 17));
        Npy.write(b, NpyArray.ofBytes(DType.INT8, bv, 17, 9));
        int[] want = Int8GemmReference.matmulInteger(new Int8Matrix(QuantType.INT8, 33, 17, av), ZeroPoint.scalar(0),
                new Int8Matrix(QuantType.INT8, 17, 9, bv), ZeroPoint.scalar(0));
        IntFunction<ChildJvm.Result> gemm = p -> ChildJvm.in(dir.resolve("p" + p)).env("OFFLOAD_CACHE_DIR", cache.toString())
                .cli("gemm-int8", "--a", a.toString(), "--b", b.toString(), "--out", dir.resolve("c" + p + ".npy").toString(), "--device", "cl:cpu");
        for (ChildJvm.Result res : atOnce(gemm)) assertEquals(0, res.exit(), res.err());
        for (int p = 0; p < PROCESSES; p++) assertArrayEquals(want, Npy.read(dir.resolve("c" + p + ".npy")).toIntArray(), "process " + p);
        assertWhole(cache.resolve("programs"));
        ChildJvm.Result next = gemm.apply(PROCESSES).assertSurvived();
        assertEquals(0, next.exit(), next.err());
        assertFalse(next.err().contains("compiling"), "the next process loads the shared entry:\n" + next.err());
        assertArrayEquals(want, Npy.read(dir.resolve("c" + PROCESSES + ".npy")).toIntArray());
    }

    @Test
    void processesBuildingIntoOneBitstreamStoreLeaveItWholeAndVerified() throws Exception {
        Path store = dir.resolve("store");
        for (ChildJvm.Result res : atOnce(p -> ChildJvm.in(dir.resolve("b" + p))
                .cli("bitstreams", "build", "--device", "cl:cpu", "--ops", "smoke", "--store", store.toString()))) {
            assertEquals(0, res.exit(), res.err());
        }
        assertWhole(store);
        ChildJvm.Result verify = ChildJvm.in(dir.resolve("verify")).cli("bitstreams", "verify", "--store", store.toString()).assertSurvived();
        assertEquals(0, verify.exit(), verify.out() + verify.err());
        assertTrue(verify.out().contains("all checks passed"), verify.out());
    }
}
