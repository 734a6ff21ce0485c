package dev.offload.ops.blockq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.cl.Buffer;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.KernelStyle;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.BlockLinear;
import dev.offload.graph.BlockLinearGroup;
import dev.offload.graph.DynamicQuantize;
import dev.offload.graph.Graph;
import dev.offload.graph.GraphBuilder;
import dev.offload.graph.TensorType;
import dev.offload.ops.quant.QuantizeReference;
import dev.offload.runtime.ExecutionPlan;
import dev.offload.runtime.GraphRuntime;
import dev.offload.runtime.HostTensor;
import dev.offload.runtime.OpImplementations;
import dev.offload.runtime.Placement;
import dev.offload.tensor.DType;
import dev.offload.testing.CpuDeviceFixture;
import dev.offload.validate.CheckResult;
import dev.offload.validate.GuardedOutput;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The block-quantized linear: the reference against its definition, the OpenCL kernels (decode and prefill forms,
 * VNNI and portable, both bindings, FPGA style) against the reference, and the graph node on both backends.
 */
class BlockLinearTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();

    record Problem(byte[] x, float[] dx, int m, BlockMatrix w, float[] bias) {
        static Problem random(BlockFormat f, int m, int k, int n, boolean bias, long seed, Arena arena) {
            SplittableRandom rnd = new SplittableRandom(seed);
            float[] b = null;
            if (bias) {
                b = new float[n];
                for (int i = 0; i < n; i++) b[i] = (float) rnd.nextDouble(-1, 1);
            }
            return new Problem(RandomBlocks.activations(m, k, rnd), RandomBlocks.scales(m * k / 32, rnd), m,
                    RandomBlocks.weight(f, n, k, rnd, arena), b);
        }

        float[] reference() { return BlockLinearReference.linear(x, dx, m, w, bias); }

        float[] on(OpenClDevice device) {
            BlockMatmul mm = new BlockMatmul(device);
            try (BlockMatmul.DeviceWeight dw = mm.upload(w)) {
                assertEquals(w.byteSize(), dw.buffer().size(), "resident bytes are the blocks' bytes");
                return mm.linear(x, dx, m, dw, bias);
            }
        }

        CheckResult check(float[] got) {
            return BlockLinearBound.compare("blockq", m + "x" + w.cols() + "x" + w.rows(), "test", reference(), got,
                    BlockLinearBound.bounds(x, dx, m, w, bias), true);
        }
    }

    @Test
    void referenceIsLlamaCppsDotProductWithNibblesInGgmlOrder() {
        // One Q4_0 block, d = 0.5: byte j holds element j (low nibble) and element j + 16 (high nibble).
        byte[] block = new byte[18];
        short half = Float.floatToFloat16(0.5f);
        block[0] = (byte) half;
        block[1] = (byte) (half >> 8);
        for (int j = 0; j < 16; j++) block[2 + j] = (byte) (j | (15 - j) << 4);
        BlockMatrix w = new BlockMatrix(BlockFormat.Q4_0, 1, 32, MemorySegment.ofArray(block));
        byte[] x = new byte[32];
        for (int i = 0; i < 32; i++) x[i] = (byte) (i - 10);
        int s = 0;
        for (int j = 0; j < 16; j++) s += (j - 10) * (j - 8) + (j + 16 - 10) * (15 - j - 8);
        float[] y = BlockLinearReference.linear(x, new float[] {0.25f}, 1, w, new float[] {3f});
        assertEquals((float) s * (0.25f * 0.5f) + 3f, y[0]);
    }

    @Test
    void referenceIsTheExactProductOfTheDequantizedValuesWithinItsRounding() {
        try (Arena arena = Arena.ofConfined()) {
            for (BlockFormat f : BlockFormat.values()) {
                int k = f.superBlocks() ? 512 : 160, nb = k / 32;
                Problem p = Problem.random(f, 3, k, 7, true, 5, arena);
                float[] y = p.reference(), w = p.w().dequantize();
                double[] bound = BlockLinearBound.bounds(p.x(), p.dx(), 3, p.w(), p.bias());
                for (int r = 0; r < 3; r++) {
                    for (int j = 0; j < 7; j++) {
                        // ggml's decoded weights are rounded themselves (Q4_K: d * sc * q - dmin * m in float), so
                        // the exact product is taken of the integer parts the definition uses.
                        WeightRow row = new WeightRow(f, k).read(p.w(), j);
                        double exact = p.bias()[j];
                        for (int i = 0; i < k; i++) {
                            int b = i / 32;
                            double scaled = (double) row.d[b] * (i % 32 < 16 ? row.scaleLo[b] : row.scaleHi[b]) * row.q[i], shift = (double) row.dmin[b] * row.min[b];
                            double v = scaled - shift;
                            assertEquals(v, w[j * k + i], (Math.abs(scaled) + Math.abs(shift)) * 0x1p-21, f + " weight " + j + "," + i + " is ggml's value");
                            exact += (double) p.x()[r * k + i] * p.dx()[r * nb + b] * v;
                        }
                        assertTrue(Math.abs(y[r * 7 + j] - exact) <= bound[r * 7 + j] / 2, f + " " + r + "," + j + ": " + y[r * 7 + j] + " vs " + exact);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}x{2}x{3} bias={4}")
    @CsvSource({"Q8_0, 1, 2048, 64, false", "Q4_0, 1, 2048, 64, true", "Q8_0, 2, 160, 33, true", "Q4_0, 3, 4096, 17, false",
            "Q8_0, 4, 2080, 9, true", "Q4_0, 5, 2080, 40, true", "Q8_0, 64, 512, 96, false", "Q4_0, 16, 1024, 70, false",
            "Q8_0, 7, 32, 5, true", "Q4_0, 1, 96, 1, false",
            "Q4_K, 1, 2048, 64, false", "Q6_K, 1, 2048, 63, true", "Q4_K, 7, 512, 33, true", "Q6_K, 7, 768, 1, false",
            "Q4_K, 64, 256, 97, false", "Q6_K, 64, 1024, 5, true", "Q4_K, 3, 256, 1, true", "Q6_K, 2, 256, 4, false"})
    void openClMatchesTheReferenceWithinTheBound(BlockFormat f, int m, int k, int n, boolean bias) {
        try (Arena arena = Arena.ofConfined()) {
            Problem p = Problem.random(f, m, k, n, bias, 31L * m + k + n, arena);
            float[] got = p.on(CL.device());
            CheckResult r = p.check(got);
            assertTrue(r.passed(), r.toString());
            // The K-quant kernel keeps the reference's float steps and order on every path (VNNI sums are exact).
            if (f.superBlocks()) assertArrayEquals(p.reference(), got, "K-quants: the reference bit for bit");
        }
    }

    /** y into a poisoned, guarded output through {@code mm} (AMX or not); asserts the guards held. */
    private static float[] guarded(BlockMatmul mm, Problem p, float[] residual) {
        OpenClDevice device = mm.device();
        try (BlockMatmul.DeviceWeight dw = mm.upload(p.w()); Buffer xb = device.upload(p.x()); Buffer db = device.upload(p.dx());
             Buffer bb = p.bias() == null ? null : device.upload(p.bias()); Buffer rb = residual == null ? null : device.upload(residual);
             GuardedOutput y = GuardedOutput.floats(device, p.m() * p.w().rows())) {
            mm.run(xb, db, p.m(), List.of(new BlockMatmul.Product(dw, bb, rb, y.buffer())));
            assertTrue(y.guardsIntact(), "nothing written outside y");
            return y.readFloats();
        }
    }

    @ParameterizedTest(name = "{0} {1}x{2}x{3} bias={4}")
    @CsvSource({"Q8_0, 16, 32, 16, true", "Q4_0, 16, 32, 16, false", "Q8_0, 17, 64, 48, false", "Q4_0, 17, 96, 48, true",
            "Q8_0, 33, 96, 2053, true", "Q4_0, 33, 64, 2053, false", "Q8_0, 100, 2048, 48, false", "Q4_0, 100, 2048, 16, true",
            "Q8_0, 31, 2048, 2050, false", "Q4_0, 64, 2048, 2064, true", "Q8_0, 16, 2048, 37, true", "Q4_0, 47, 32, 2047, false"})
    void amxPrefillIsTheReferenceOnPanelRowsAndTheVnniKernelEverywhere(BlockFormat f, int m, int k, int n, boolean bias) {
        BlockMatmul amx = new BlockMatmul(CL.device()), vnni = new BlockMatmul(CL.device(), false);
        Assumptions.assumeTrue(amx.amx(), "the device runs no AMX tiles");
        assertTrue(amx.tile(m, f).amxRows() > 0, "M >= 16 takes the AMX tile");
        assertEquals(0, vnni.tile(m, f).amxRows());
        try (Arena arena = Arena.ofShared()) {
            Problem p = Problem.random(f, m, k, n, bias, 53L * m + k + n, arena);
            float[] want = p.reference(), got = guarded(amx, p, null);
            int panelRows = n / 16 * 16;
            for (int r = 0; r < m; r++) {
                for (int j = 0; j < panelRows; j++) {
                    assertEquals(Float.floatToRawIntBits(want[r * n + j]), Float.floatToRawIntBits(got[r * n + j]),
                            "panel row " + j + ", x row " + r + ": the reference's bits (" + want[r * n + j] + " vs " + got[r * n + j] + ")");
                }
            }
            CheckResult c = p.check(got);
            assertTrue(c.passed(), c.toString());
            assertArrayEquals(guarded(vnni, p, null), got, "the VNNI kernel's floats (its tail rows are the same code)");
        }
    }

    @ParameterizedTest(name = "{0} {1}x{2}")
    @CsvSource({"Q8_0, 17, 96", "Q4_0, 40, 2048"})
    void amxPrefillAddsTheResidualAndGroupsWeightsAsThePlainLaunch(BlockFormat f, int m, int k) {
        BlockMatmul amx = new BlockMatmul(CL.device());
        Assumptions.assumeTrue(amx.amx(), "the device runs no AMX tiles");
        try (Arena arena = Arena.ofShared()) {
            SplittableRandom rnd = new SplittableRandom(7L * m + k);
            Problem p = Problem.random(f, m, k, 70, true, rnd.nextLong(), arena);
            float[] residual = new float[m * 70];
            for (int i = 0; i < residual.length; i++) residual[i] = (float) (rnd.nextGaussian() * 8);
            float[] plain = guarded(amx, p, null), fused = guarded(amx, p, residual);
            for (int i = 0; i < plain.length; i++) {
                assertEquals(Float.floatToRawIntBits(residual[i] + plain[i]), Float.floatToRawIntBits(fused[i]), "residual + product at " + i);
            }
            List<Problem> parts = new java.util.ArrayList<>();
            for (int n : new int[] {96, 33, 48}) {
                Problem q = Problem.random(f, m, k, n, true, rnd.nextLong(), arena);
                parts.add(new Problem(p.x(), p.dx(), m, q.w(), q.bias()));
            }
            List<float[]> group = group(CL.device(), p.x(), p.dx(), m, parts.stream().map(Problem::w).toList(), parts.stream().map(Problem::bias).toList());
            for (int i = 0; i < parts.size(); i++) {
                assertArrayEquals(guarded(amx, parts.get(i), null), group.get(i), "weight " + i + " in one launch: its own launch's floats");
                assertTrue(parts.get(i).check(group.get(i)).passed(), parts.get(i).check(group.get(i)).toString());
            }
        }
    }

    @Test
    void fpgaStyleIsTheReferenceBitForBit() {
        // The portable kernel sums each block exactly and accumulates in the reference's order.
        try (OpenClDevice fpga = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow());
             Arena arena = Arena.ofConfined()) {
            fpga.kernelStyle(KernelStyle.FPGA);
            for (BlockFormat f : BlockFormat.values()) {
                for (int[] s : new int[][] {{1, f.superBlocks() ? 2304 : 2080, 13}, {6, 256, 9}}) {
                    Problem p = Problem.random(f, s[0], s[1], s[2], true, s[1], arena);
                    assertArrayEquals(p.reference(), p.on(fpga), f + " " + s[0] + "x" + s[1] + "x" + s[2]);
                }
            }
        }
    }

    @Test
    void joclBindingGivesTheSameResults() {
        try (OpenClDevice jocl = new OpenClDevice(DeviceRegistry.discover(Binding.JOCL).resolve("cl:cpu").orElseThrow());
             Arena arena = Arena.ofConfined()) {
            for (BlockFormat f : BlockFormat.values()) {
                Problem p = Problem.random(f, 2, f.superBlocks() ? 1024 : 1056, 19, true, 77, arena);
                float[] got = p.on(jocl);
                assertTrue(p.check(got).passed(), p.check(got).toString());
                assertArrayEquals(p.on(CL.device()), got, "the same kernel through either binding");
            }
        }
    }

    @Test
    void graphNodeRunsOnJavaAndOpenClWithTheWeightResidentOnce() {
        int k = 256, n = 40;
        TensorType xt = TensorType.of(DType.FLOAT32, 2, 3, k);
        try (Arena arena = Arena.ofShared()) {
            SplittableRandom rnd = new SplittableRandom(9);
            BlockMatrix w = RandomBlocks.weight(BlockFormat.Q4_0, n, k, rnd, arena);
            float[] bias = new float[n];
            for (int i = 0; i < n; i++) bias[i] = (float) rnd.nextDouble(-1, 1);
            GraphBuilder b = new GraphBuilder("blockq");
            List<String> q = b.add("q", new DynamicQuantize(DynamicQuantize.Mode.PER_BLOCK_INT8), b.input("x", xt));
            // Two nodes over one weight (as Q, K and V of a graph built twice would share it): one device copy.
            String y1 = b.add1("y1", new BlockLinear(k, n, w, bias), q.toArray(String[]::new));
            String y2 = b.add1("y2", new BlockLinear(k, n, w, bias), q.toArray(String[]::new));
            q.forEach(b::output);
            Graph g = b.output(y1).output(y2).build();
            float[] x = new float[2 * 3 * k];
            for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * 3);
            Map<String, HostTensor> in = Map.of("x", HostTensor.of(xt, x));
            GraphRuntime.Result java = run(g, "java", in);
            try (GraphRuntime rt = new GraphRuntime(ExecutionPlan.of(g, Placement.parse("cl:cpu"), CL.pool()), OpImplementations.defaults(), true)) {
                rt.allocations().poisonNewBuffers(true);
                GraphRuntime.Result cl = rt.run(in);
                assertArrayEquals(java.output("q.0").bytes(), cl.output("q.0").bytes(), "per-block int8 data");
                assertArrayEquals(java.output("q.1").floats(), cl.output("q.1").floats(), "per-block scales");
                assertArrayEquals(new int[1], cl.output("q.2").ints(), "the zero point");
                QuantizeReference.Quantized qr = QuantizeReference.perBlockInt8(x, 6, k);
                assertArrayEquals(BlockLinearReference.linear(qr.data(), qr.scales(), 6, w, bias), java.output("y1").floats(), "java is the reference");
                double[] bound = BlockLinearBound.bounds(qr.data(), qr.scales(), 6, w, bias);
                for (String y : List.of("y1", "y2")) {
                    CheckResult r = BlockLinearBound.compare("blockq", y, "cl:cpu", java.output(y).floats(), cl.output(y).floats(), bound, true);
                    assertTrue(r.passed(), r.toString());
                }
                assertTrue(cl.samples().stream().filter(s -> s.opKind().equals("linear")).allMatch(s -> !s.isFallback() && s.deviceNs() > 0),
                        "the linear nodes run their OpenCL kernel");
                assertEquals(w.byteSize() + 4L * n, rt.weights().totalBytes(), "the blocks and the bias, once");
            }
        }
    }

    /** The parts' products through one launch (blockq_linear_group), read back. */
    private static List<float[]> group(OpenClDevice device, byte[] x, float[] dx, int m, List<BlockMatrix> ws, List<float[]> biases) {
        BlockMatmul mm = new BlockMatmul(device);
        List<AutoCloseable> open = new java.util.ArrayList<>();
        try (Buffer xb = device.upload(x); Buffer db = device.upload(dx)) {
            List<BlockMatmul.Product> products = new java.util.ArrayList<>();
            for (int i = 0; i < ws.size(); i++) {
                BlockMatmul.DeviceWeight w = mm.upload(ws.get(i));
                Buffer bias = biases.get(i) == null ? null : device.upload(biases.get(i));
                Buffer y = device.context().createBuffer(4L * m * w.rows());
                open.addAll(java.util.Arrays.asList(w, y));
                if (bias != null) open.add(bias);
                products.add(new BlockMatmul.Product(w, bias, y));
            }
            mm.run(xb, db, m, products);
            List<float[]> out = new java.util.ArrayList<>();
            for (BlockMatmul.Product p : products) out.add(device.readFloats(p.y(), m * p.weight().rows()));
            return out;
        } finally {
            for (AutoCloseable c : open) {
                try {
                    c.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}x{2} into {3} bias={4}")
    @CsvSource({"Q8_0, 1, 2080, 64 17 40, false", "Q4_0, 1, 2048, 2048 512 512, true", "Q8_0, 5, 160, 33 16, true",
            "Q4_0, 64, 512, 96 70 9, false", "Q4_K, 1, 512, 33 64 5, true", "Q6_K, 7, 256, 1 20, false"})
    void oneLaunchOfSeveralWeightsIsEachWeightsOwnLaunchBitForBit(BlockFormat f, int m, int k, String ns, boolean bias) {
        try (Arena arena = Arena.ofConfined();
             OpenClDevice fpga = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow())) {
            fpga.kernelStyle(KernelStyle.FPGA);
            SplittableRandom rnd = new SplittableRandom(41L * m + k);
            byte[] x = RandomBlocks.activations(m, k, rnd);
            float[] dx = RandomBlocks.scales(m * k / 32, rnd);
            List<Problem> parts = new java.util.ArrayList<>();
            for (String n : ns.split(" ")) {
                Problem p = Problem.random(f, m, k, Integer.parseInt(n), bias, rnd.nextLong(), arena);
                parts.add(new Problem(x, dx, m, p.w(), p.bias()));
            }
            List<BlockMatrix> ws = parts.stream().map(Problem::w).toList();
            List<float[]> biases = parts.stream().map(Problem::bias).toList();
            List<float[]> fused = group(CL.device(), x, dx, m, ws, biases), fusedFpga = group(fpga, x, dx, m, ws, biases);
            for (int i = 0; i < parts.size(); i++) {
                Problem p = parts.get(i);
                assertArrayEquals(p.on(CL.device()), fused.get(i), "weight " + i + ": its own launch's floats");
                assertTrue(p.check(fused.get(i)).passed(), p.check(fused.get(i)).toString());
                assertArrayEquals(p.reference(), fusedFpga.get(i), "weight " + i + ", FPGA style: the reference bit for bit");
            }
        }
    }

    @Test
    void groupNodeGivesItsPartsOutputsWithEachWeightResidentOnce() {
        int k = 512;
        TensorType xt = TensorType.of(DType.FLOAT32, 1, 3, k);
        try (Arena arena = Arena.ofShared()) {
            SplittableRandom rnd = new SplittableRandom(12);
            List<BlockLinear> parts = new java.util.ArrayList<>();
            for (int n : new int[] {48, 20, 20}) {
                float[] bias = new float[n];
                for (int i = 0; i < n; i++) bias[i] = (float) rnd.nextDouble(-1, 1);
                parts.add(new BlockLinear(k, n, RandomBlocks.weight(BlockFormat.Q8_0, n, k, rnd, arena), bias));
            }
            GraphBuilder b = new GraphBuilder("blockq-group");
            String[] q = b.add("q", new DynamicQuantize(DynamicQuantize.Mode.PER_BLOCK_INT8), b.input("x", xt)).toArray(String[]::new);
            List<String> fused = b.add("qkv", new BlockLinearGroup(parts), q);
            List<String> alone = new java.util.ArrayList<>();
            for (int i = 0; i < parts.size(); i++) alone.add(b.add1("alone" + i, parts.get(i), q));
            fused.forEach(b::output);
            alone.forEach(b::output);
            Graph g = b.build();
            float[] x = new float[3 * k];
            for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * 2);
            Map<String, HostTensor> in = Map.of("x", HostTensor.of(xt, x));
            GraphRuntime.Result java = run(g, "java", in);
            QuantizeReference.Quantized qr = QuantizeReference.perBlockInt8(x, 3, k);
            try (GraphRuntime rt = new GraphRuntime(ExecutionPlan.of(g, Placement.parse("cl:cpu"), CL.pool()), OpImplementations.defaults(), true)) {
                rt.allocations().poisonNewBuffers(true);
                GraphRuntime.Result cl = rt.run(in);
                for (int i = 0; i < parts.size(); i++) {
                    BlockLinear l = parts.get(i);
                    assertArrayEquals(BlockLinearReference.linear(qr.data(), qr.scales(), 3, l.weight(), l.bias()), java.output(fused.get(i)).floats(),
                            "java: part " + i + " is the reference");
                    assertArrayEquals(cl.output(alone.get(i)).floats(), cl.output(fused.get(i)).floats(), "cl: part " + i + " is its own node's floats");
                }
                assertEquals(parts.stream().mapToLong(BlockLinear::weightBytes).sum(), rt.weights().totalBytes(),
                        "each part's blocks and bias once, shared by the group and the single nodes");
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}x{2}x{3}")
    @CsvSource({"Q8_0, 1, 256, 40", "Q4_0, 1, 512, 64", "Q8_0, 9, 160, 33", "Q4_K, 1, 512, 9", "Q6_K, 6, 256, 20"})
    void aResidualInputGivesWhatAnAddAfterTheProductGivesOnEveryBackend(BlockFormat f, int rows, int k, int n) {
        TensorType xt = TensorType.of(DType.FLOAT32, 1, rows, k), rt = TensorType.of(DType.FLOAT32, 1, rows, n);
        try (Arena arena = Arena.ofShared()) {
            SplittableRandom rnd = new SplittableRandom(rows * 7L + n);
            float[] bias = new float[n];
            for (int i = 0; i < n; i++) bias[i] = (float) rnd.nextDouble(-1, 1);
            BlockLinear l = new BlockLinear(k, n, RandomBlocks.weight(f, n, k, rnd, arena), bias);
            GraphBuilder b = new GraphBuilder("blockq-residual");
            String r = b.input("r", rt);
            List<String> q = new java.util.ArrayList<>(b.add("q", new DynamicQuantize(DynamicQuantize.Mode.PER_BLOCK_INT8), b.input("x", xt)));
            String product = b.add1("product", l, q.toArray(String[]::new));
            String added = b.add1("added", new dev.offload.graph.Add(), r, product);
            q.add(r);
            String fused = b.add1("fused", l.withResidual(), q.toArray(String[]::new));
            Graph g = b.output(added).output(fused).build();
            float[] x = new float[rows * k], res = new float[rows * n];
            for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * 2);
            for (int i = 0; i < res.length; i++) res[i] = (float) (rnd.nextGaussian() * 10);
            Map<String, HostTensor> in = Map.of("x", HostTensor.of(xt, x), "r", HostTensor.of(rt, res));
            for (String placement : List.of("java", "cl:cpu")) {
                GraphRuntime.Result out = run(g, placement, in);
                assertArrayEquals(out.output(added).floats(), out.output(fused).floats(), placement + ": the add's floats");
            }
            assertThrows(IllegalArgumentException.class, () -> l.withResidual().outputTypes(List.of(TensorType.of(DType.INT8, rows, k),
                    TensorType.of(DType.FLOAT32, rows, k / 32), TensorType.of(DType.INT32, 1), TensorType.of(DType.FLOAT32, rows, n + 1))));
            assertFalse(BlockLinearGroup.fits(List.of(l, l.withResidual())), "a group has no residual");
        }
    }

    @Test
    void aGroupTakesTwoOrThreeLinearsOfOneFormatInputAndBiasChoice() {
        try (Arena arena = Arena.ofConfined()) {
            SplittableRandom rnd = new SplittableRandom(3);
            BlockLinear q8 = new BlockLinear(256, 8, RandomBlocks.weight(BlockFormat.Q8_0, 8, 256, rnd, arena), null);
            BlockLinear q4 = new BlockLinear(256, 8, RandomBlocks.weight(BlockFormat.Q4_0, 8, 256, rnd, arena), null);
            BlockLinear biased = new BlockLinear(256, 8, q8.weight(), new float[8]);
            BlockLinear wider = new BlockLinear(512, 8, RandomBlocks.weight(BlockFormat.Q8_0, 8, 512, rnd, arena), null);
            assertTrue(BlockLinearGroup.fits(List.of(q8, q8, q8)));
            for (List<BlockLinear> no : List.of(List.of(q8), List.of(q8, q8, q8, q8), List.of(q8, q4), List.of(q8, biased), List.of(q8, wider))) {
                assertFalse(BlockLinearGroup.fits(no), no.toString());
                assertThrows(IllegalArgumentException.class, () -> new BlockLinearGroup(no));
            }
            BlockLinear biased2 = new BlockLinear(256, 8, q4.weight(), new float[8]);
            assertFalse(BlockLinearGroup.fits(List.of(biased, biased2)), "Q8_0 and Q4_0");
            BlockLinearGroup g = new BlockLinearGroup(List.of(biased, biased));
            TensorType qt = TensorType.of(DType.INT8, 2, 256);
            assertEquals(List.of(TensorType.of(DType.FLOAT32, 2, 8), TensorType.of(DType.FLOAT32, 2, 8)),
                    g.outputTypes(List.of(qt, TensorType.of(DType.FLOAT32, 2, 8), TensorType.of(DType.INT32, 1))));
            assertEquals(2 * biased.weightBytes(), g.weightBytes());
        }
    }

    private static GraphRuntime.Result run(Graph g, String placement, Map<String, HostTensor> in) {
        try (GraphRuntime rt = new GraphRuntime(ExecutionPlan.of(g, Placement.parse(placement), CL.pool()), OpImplementations.defaults(), true)) {
            return rt.run(in);
        }
    }

    @Test
    void shapesAreCheckedWhereTheGraphIsBuilt() {
        try (Arena arena = Arena.ofConfined()) {
            BlockMatrix w = RandomBlocks.weight(BlockFormat.Q8_0, 8, 64, new SplittableRandom(1), arena);
            BlockLinear l = new BlockLinear(64, 8, w, null);
            TensorType q = TensorType.of(DType.INT8, 3, 64);
            assertEquals(List.of(TensorType.of(DType.FLOAT32, 3, 8)),
                    l.outputTypes(List.of(q, TensorType.of(DType.FLOAT32, 3, 2), TensorType.of(DType.INT32, 1))));
            // Per-row scales (a PER_ROW_INT8 quantize) are not per-block ones.
            assertThrows(IllegalArgumentException.class, () -> l.outputTypes(List.of(q, TensorType.of(DType.FLOAT32, 3), TensorType.of(DType.INT32, 3))));
            assertThrows(IllegalArgumentException.class, () -> new BlockLinear(32, 8, w, null));
            assertThrows(IllegalArgumentException.class, () -> new DynamicQuantize(DynamicQuantize.Mode.PER_BLOCK_INT8)
                    .outputTypes(List.of(TensorType.of(DType.FLOAT32, 2, 40))));
            assertEquals(w.byteSize(), l.weightBytes());
        }
    }
}
