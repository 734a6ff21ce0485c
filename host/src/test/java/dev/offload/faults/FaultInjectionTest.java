package dev.offload.faults;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.offload.cl.ClException;
import dev.offload.device.ComputeDevice;
import dev.offload.graph.Graph;
import dev.offload.graph.Node;
import dev.offload.graph.Op;
import dev.offload.ops.gemm.Int8GemmReference;
import dev.offload.ops.gemm.Int8Matrix;
import dev.offload.ops.gemm.ZeroPoint;
import dev.offload.ops.quant.QuantType;
import dev.offload.profile.OpSample;
import dev.offload.runtime.Backend;
import dev.offload.runtime.ExecutionPlan;
import dev.offload.runtime.GraphRuntime;
import dev.offload.runtime.OpImplementation;
import dev.offload.runtime.OpImplementations;
import dev.offload.runtime.Placement;
import dev.offload.runtime.ResidentWeights;
import dev.offload.synthetic.SyntheticModel;
import dev.offload.synthetic.SyntheticSpec;
import dev.offload.tensor.DType;
import dev.offload.tensor.Npy;
import dev.offload.tensor.NpyArray;
import dev.offload.testing.ChildJvm;
import dev.offload.testing.CpuDeviceFixture;
import dev.offload.testing.GraphFixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults from outside: kernels that fail to build or launch (every op kind of a graph, injected), no OpenCL device at
 * all (the ICD loader pointed at an empty vendor folder, in a child JVM), and a full disk for outputs (a per-process
 * file size limit, and a tiny tmpfs where one can be mounted) and for the program cache (tmpfs). Each ends with a
 * visible warning and a correct result, or a one-line error; nothing is left half written.
 */
class FaultInjectionTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();
    @TempDir Path dir;

    /** Throws what a driver throws: a build failure in prepare, or an enqueue failure in run. */
    private record Failing(boolean atLaunch) implements OpImplementation {
        @Override
        public Prepared prepare(Graph graph, Node node, ComputeDevice device, ResidentWeights weights) {
            if (!atLaunch) throw new ClException("clBuildProgram", -11, "injected", "error: injected build failure");
            return (in, ctx) -> { throw new ClException("clEnqueueNDRangeKernel", -5, "injected", null); };
        }
    }

    @Test
    void everyOpKindWhoseKernelFailsIsRePlacedOnJavaWithTheSameResult() {
        for (String s : List.of("synthetic:arch=encoder,layers=1,hidden=32,heads=2,ffn=48,seq=8,batch=2,seed=4",
                "synthetic:arch=decoder,layers=1,hidden=32,heads=4,kv-heads=2,ffn=48,seq=6,batch=1,seed=4")) {
            SyntheticSpec spec = SyntheticSpec.parse(s);
            Graph g = SyntheticModel.build(spec);
            var in = SyntheticModel.inputs(spec, 5);
            GraphRuntime.Result want = GraphFixtures.run(g, CL.pool(), "java", in);
            Set<Class<? extends Op>> kinds = new LinkedHashSet<>();
            g.nodes().forEach(n -> kinds.add(n.op().getClass()));
            for (Class<? extends Op> kind : kinds) {
                if (OpImplementations.defaults().find(kind, Backend.OPENCL).isEmpty()) continue;
                for (boolean atLaunch : new boolean[] {false, true}) {
                    OpImplementations impls = OpImplementations.defaults().with(kind, Backend.OPENCL, new Failing(atLaunch));
                    try (GraphRuntime rt = new GraphRuntime(ExecutionPlan.of(g, Placement.parse("cl:cpu"), CL.pool()), impls, false)) {
                        GraphRuntime.Result got = rt.run(in);
                        String what = spec.arch() + " " + kind.getSimpleName() + (atLaunch ? " at launch" : " at build");
                        assertTrue(GraphFixtures.maxError(want, got) <= 5e-3, what);
                        List<OpSample> moved = got.samples().stream().filter(x -> g.nodes().stream()
                                .anyMatch(n -> n.name().equals(x.node()) && n.op().getClass() == kind)).toList();
                        assertFalse(moved.isEmpty(), what);
                        for (OpSample x : moved) {
                            assertEquals("java", x.device(), what);
                            assertTrue(x.fallback().contains("injected") || x.fallback().contains(atLaunch ? "CL_OUT_OF_RESOURCES" : "CL_BUILD_PROGRAM_FAILURE"),
                                    what + ": " + x.fallback());
                        }
                    }
                }
            }
        }
    }

    /** Exit 2 and one {@code offload: } line with every fragment; other stderr lines may only be logged warnings. */
    private static void assertRefused(ChildJvm.Result r, String... fragments) {
        r.assertSurvived();
        assertEquals(2, r.exit(), r.out() + r.err());
        List<String> errors = r.errLines().stream().filter(l -> l.startsWith("offload: ")).toList();
        assertEquals(1, errors.size(), r.err());
        for (String f : fragments) assertTrue(errors.getFirst().contains(f), "'" + f + "' missing: " + errors.getFirst());
        assertTrue(r.errLines().stream().allMatch(l -> l.startsWith("offload: ") || l.contains("WARN")), r.err());
    }

    private Path int8(String name, int rows, int cols, long seed) {
        byte[] v = new byte[rows * cols];
        new Random(seed).nextBytes(v);
        Path p = dir.resolve(name);
        Npy.write(p, NpyArray.ofBytes(DType.INT8, v, rows, cols));
        return p;
    }

    @Test
    void withoutAnyOpenClDeviceCommandsRunOnJavaOrSayWhatIsMissing() throws IOException {
        Path vendors = Files.createDirectories(dir.resolve("no-vendors"));
        Path texts = Files.writeString(dir.resolve("texts.txt"), "A man is playing a guitar.\nShare prices fell.\n");
        Path out = dir.resolve("embeddings.npy");
        ChildJvm child = ChildJvm.in(dir.resolve("child")).env("OCL_ICD_VENDORS", vendors.toString()).env("OFFLOAD_DEVICE", null);
        ChildJvm.Result run = child.cli("run", "--input", texts.toString(), "--output", out.toString()).assertSurvived();
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("device: java"), run.out());
        assertTrue(run.err().contains("only the java device is available"), "a visible warning:\n" + run.err());
        assertEquals(2, Npy.read(out).shape()[0]);
        Path a = int8("a.npy", 4, 3, 1), b = int8("b.npy", 3, 2, 2);
        assertRefused(child.cli("gemm-int8", "--a", a.toString(), "--b", b.toString(), "--out", dir.resolve("c.npy").toString(),
                "--device", "cl:cpu"), "no device matches 'cl:cpu'", "available: java");
        assertRefused(child.cli("profile", "--model", "synthetic:arch=encoder,layers=1,hidden=32,heads=2,seq=8", "--placement",
                "linear=cl:cpu,*=java"), "no device matches 'cl:cpu'");
        assertRefused(child.cli("bitstreams", "build", "--ops", "smoke", "--store", dir.resolve("store").toString()), "bitstreams are for OpenCL devices");
        assertFalse(Files.exists(dir.resolve("c.npy")) || Files.exists(dir.resolve("store")));
    }

    private static List<String> names(Path folder) throws IOException {
        try (Stream<Path> s = Files.walk(folder)) {
            return s.filter(Files::isRegularFile).map(p -> folder.relativize(p).toString()).sorted().toList();
        }
    }

    @Test
    void aFullDiskForAnOutputIsOneLineAndKeepsTheOldFile() throws IOException {
        // C is 300 x 300 int32, 360 KB; each process may write files of at most 64 KiB.
        Path a = int8("tall.npy", 300, 1, 3), b = int8("wide.npy", 1, 300, 4), out = dir.resolve("out/c.npy");
        Npy.write(out, NpyArray.ofInts(new int[] {7}, 1));
        byte[] before = Files.readAllBytes(out);
        ChildJvm.Result r = ChildJvm.in(dir.resolve("child")).fileSizeLimitKiB(64)
                .cli("gemm-int8", "--a", a.toString(), "--b", b.toString(), "--out", out.toString(), "--device", "java");
        assertRefused(r, out + ": cannot write (File too large)");
        assertArrayEquals(before, Files.readAllBytes(out), "the old file is whole");
        assertEquals(List.of("c.npy"), names(out.getParent()), "no temporary file left");
    }

    /** A tmpfs of {@code kiB} KiB mounted on a new folder, or null where this process may not mount one. */
    private Path tmpfs(String name, int kiB) throws Exception {
        Path mount = Files.createDirectories(dir.resolve(name));
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + kiB + "k", "tmpfs", mount.toString()).redirectErrorStream(true).start();
        return p.waitFor() == 0 ? mount : null;
    }

    private static void unmount(Path mount) throws Exception {
        if (mount != null) new ProcessBuilder("umount", mount.toString()).inheritIO().start().waitFor();
    }

    @Test
    void aFullFilesystemForOutputsAndForTheProgramCacheCostsAnErrorOrACompileNothingElse() throws Exception {
        Path small = tmpfs("small-disk", 64);
        assumeTrue(small != null, "tmpfs cannot be mounted here (not root, or no mount namespace); the file size limit case covers outputs");
        try {
            Path a = int8("tall.npy", 300, 1, 5), b = int8("wide.npy", 1, 300, 6), out = small.resolve("c.npy");
            assertRefused(ChildJvm.in(dir.resolve("child")).cli("gemm-int8", "--a", a.toString(), "--b", b.toString(),
                    "--out", out.toString(), "--device", "java"), out + ": cannot write (No space left on device)");
            assertEquals(List.of(), names(small), "nothing left on the full disk");

            // The program cache on the full disk: the build is not cached, with a warning, and the result is right.
            Path qa = int8("qa.npy", 9, 5, 7), qb = int8("qb.npy", 5, 4, 8), qout = dir.resolve("q.npy");
            int[] want = Int8GemmReference.matmulInteger(new Int8Matrix(QuantType.INT8, 9, 5, Npy.read(qa).toByteArray()), ZeroPoint.scalar(0),
                    new Int8Matrix(QuantType.INT8, 5, 4, Npy.read(qb).toByteArray()), ZeroPoint.scalar(0));
            for (int attempt = 0; attempt < 2; attempt++) {
                ChildJvm.Result r = ChildJvm.in(dir.resolve("cache-child")).env("OFFLOAD_CACHE_DIR", small.resolve("cache").toString())
                        .cli("gemm-int8", "--a", qa.toString(), "--b", qb.toString(), "--out", qout.toString(), "--device", "cl:cpu").assertSurvived();
                assertEquals(0, r.exit(), r.err());
                assertTrue(r.err().contains("cannot save the int8_gemm program to cache") && r.err().contains("No space left on device"), r.err());
                assertArrayEquals(want, Npy.read(qout).toIntArray(), "attempt " + attempt);
                assertEquals(List.of(), names(small), "no partial cache entry");
            }
        } finally {
            unmount(small);
        }
    }
}
